/**
 * The activity signatures the workflows call, by the name they are
 * registered under. Workflows proxy these interfaces (types only), so a
 * workflow never imports an activity implementation; each implementation
 * module checks itself against its interface with `satisfies`.
 */
import type { BuildConfig } from './config';
import type { BootRequest, BootResult, BuildBootResult, BuildRequest, BuildResult, RevisionInfo } from './types';
import type { RevisionKey } from './reports';
import type { RevisionCounts, RevisionResult } from './revisionReport';
import type { SweepRequest, SweepResult } from './retention';

/** Task queue `bootfarm` (activities/pipeline/git.ts). */
export interface GitActivities {
  /** the branch head's sha, or null when the branch does not exist */
  lsRemote(url: string, branch: string): Promise<string | null>;
  resolveRevision(req: { tree: string; branch: string; url: string; ref?: string }): Promise<RevisionInfo>;
}

/** Task queue `build` or `build-<arch>` (activities/build/index.ts). */
export interface BuildActivities {
  buildKernel(req: BuildRequest): Promise<BuildResult>;
}

/** Task queue `lab-<lab>-<platform>` (activities/labs/). */
export interface LabActivities {
  bootKernel(req: BootRequest): Promise<BootResult>;
}

export interface BootRecord {
  buildId: number;
  tree: string;
  sha: string;
  config: string;
  arch: string;
  /** 0 for a pipeline's boot; higher for repeated runs (confirmation, bisection checks) */
  run: number;
  result: BootResult;
  workflowId: string;
  /** true when the lab itself answered (the activity returned), so the lab is alive */
  fromLab: boolean;
  /** set for a bisection's boot: the bisection's workflow id (see BuildBootInput.bisection) */
  bisection?: string;
}

/** The orchestrator worker, as local activities of the pipeline (activities/pipeline/records.ts). Every call is an idempotent upsert. */
export interface ResultActivities {
  /** true when this revision was tested or is being tested (an errored attempt does not count) */
  revisionKnown(key: RevisionKey): Promise<boolean>;
  recordRevisionStart(rev: RevisionInfo & { workflowId: string }): Promise<number>;
  recordRevisionError(rev: RevisionKey & { workflowId: string; message: string }): Promise<void>;
  recordRevisionSummary(
    rev: RevisionKey & { workflowId: string; result: RevisionResult; counts: RevisionCounts },
  ): Promise<void>;
  /** returns the build's row id */
  recordBuild(rec: {
    tree: string;
    sha: string;
    config: BuildConfig;
    result: BuildResult;
    workflowId: string;
    /** set for a bisection's build: the bisection's workflow id (see BuildBootInput.bisection) */
    bisection?: string;
  }): Promise<number>;
  /**
   * A buildBoot child that failed as a whole: its build is recorded as
   * infra-error unless the child itself recorded it (the child's own
   * record is the truth about what it did).
   */
  recordLostBuild(rec: {
    tree: string;
    sha: string;
    config: BuildConfig;
    workflowId: string;
    message: string;
  }): Promise<number>;
  /** returns the boot's row id */
  recordBoot(rec: BootRecord): Promise<number>;
}

/** The orchestrator worker, as local activities of the pipeline (activities/labs/health.ts). */
export interface LabHealthActivities {
  /**
   * Whether boots may be queued for a platform of a lab: its queue has had a
   * worker within `graceMs` (records the platform's and the lab's health).
   * Without `platform`, `taskQueue` is the whole lab's queue of runs from
   * before the per-platform queues.
   */
  labHasPollers(req: { lab: string; platform?: string; taskQueue: string; graceMs: number }): Promise<boolean>;
}

/** Task queue `bootfarm` (activities/pipeline/workflowLookup.ts). */
export interface WorkflowLookupActivities {
  /** the result of a buildBoot run started elsewhere (another branch's revision, an earlier attempt) */
  awaitBuildBoot(workflowId: string): Promise<BuildBootResult>;
}

/** Task queue `bootfarm`: the store sweep of the retention workflow (activities/retention/index.ts). */
export interface RetentionActivities {
  /** one kind, from `req.after` on, a bounded number of batches; heartbeats its cursor and resumes from it on a retry */
  sweepStore(req: SweepRequest): Promise<SweepResult>;
  /** what writers killed mid-write left in the artifact store (temporary files, unfinished uploads); returns how many */
  sweepStoreTemporaries(req: { olderThanMs: number; dryRun: boolean }): Promise<number>;
}
