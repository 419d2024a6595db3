/**
 * Contracts between workflows and activities. Workflows import this module
 * for types only; nothing here may do I/O.
 */
import type { Priority } from '@temporalio/common';
import type { Status } from './status';
import type { BuildConfig, PlatformConfig, LabConfig } from './config';
import type { BootTests } from './testPlans';
import type { TestSummary } from './testResults';

/** A reference to an object in the artifact store; the bytes never enter history. */
export interface ArtifactRef {
  key: string;
  size: number;
}

/** One commit as git describes it (plumbing/git/mirror.ts reads it). */
export interface CommitInfo {
  sha: string;
  describe: string;
  subject: string;
  author: string;
  authorEmail: string;
  /** committer date, ISO 8601 */
  committedAt: string;
}

/** A commit as the head of a tree's branch: what a revision pipeline tests. */
export interface RevisionInfo extends CommitInfo {
  tree: string;
  branch: string;
  url: string;
}

export interface BuildRequest {
  tree: string;
  url: string;
  sha: string;
  describe: string;
  config: BuildConfig;
  /**
   * Build and store the device trees when the tree has them for the arch:
   * absent = when the config enables OF. Pass false when no platform to boot
   * needs a dtb (QEMU virt makes its own): on arm64 `make dtbs` walks every
   * vendor directory even when it builds nothing.
   */
  dtbs?: boolean;
  /** the commit is Bootfarm's revert of `culprit` on `bad` (bisection's revert check); see RevertOf */
  revert?: RevertOf;
}

/**
 * A commit that exists in no remote: `bad` with `culprit` reverted, made by
 * the bisection in its own mirror (activities/bisect/revert.ts). Its identity
 * and dates are fixed, so a builder whose mirror lacks it (another host)
 * makes the very same commit from the two commits it can fetch.
 */
export interface RevertOf {
  bad: string;
  culprit: string;
}

export type BuildStatus = Extract<Status, 'pass' | 'fail' | 'infra-error'>;

export interface BuildResult {
  status: BuildStatus;
  warnings: number;
  errors: number;
  durationMs: number;
  /** kernel, config, systemMap, log, modules, dtbs … by role */
  artifacts: Record<string, ArtifactRef>;
  /** a few first error lines, for reports (short) */
  errorLines: string[];
  message?: string;
  builder?: string;
}

export interface BootRequest {
  tree: string;
  branch?: string;
  sha: string;
  describe: string;
  configName: string;
  arch: string;
  platform: PlatformConfig;
  lab: string;
  kernel: ArtifactRef;
  dtb?: ArtifactRef;
  /** a ramdisk artifact, or absent when the platform boots without one */
  ramdisk?: ArtifactRef;
  timeoutMs: number;
  /** stable identity of this boot: its workflow id plus platform and lab */
  bootKey: string;
  /** what runs after the boot marker, in the same session (domain/testPlans.ts); absent = the boot only */
  tests?: BootTests;
}

export interface BootResult {
  status: Status;
  platform: string;
  lab: string;
  durationMs: number;
  log?: ArtifactRef;
  /** the line that decided the verdict (marker, panic line, or reason) */
  message: string;
  attempts?: number;
  /** which of BuildBootInput.runs this boot is (0-based); absent = 0 */
  run?: number;
  /** the results of BootRequest.tests (domain/testResults.ts): MISS for every suite when the boot failed */
  tests?: TestSummary;
}

export interface BuildBootInput {
  tree: string;
  branch?: string;
  url: string;
  sha: string;
  describe: string;
  config: BuildConfig;
  /** platform × lab pairs to boot when the build passes */
  targets: BootTarget[];
  /** set by bisect: the revision id this build belongs to, if any */
  revisionKey?: string;
  /**
   * Boot each target this many times from the same build (runs 0..runs-1),
   * one BootResult per run; bisection verifies a culprit this way. Default 1.
   */
  runs?: number;
  /** route the build to `build-<arch>` (builders that specialise) instead of `build` */
  buildQueueByArch?: boolean;
  /** prepended to the build and lab task queue names (isolated test or staging deployments) */
  taskQueuePrefix?: string;
  /** labs the revision found served, trusted for each lab's offline grace (workflows/labChecks.ts) */
  labsSeenOnline?: LabsSeenOnline;
  /** `sha` is Bootfarm's revert of a culprit (bisection's revert check), which builders may have to make themselves */
  revert?: RevertOf;
  /**
   * Set by bisect: the bisection's workflow id. The child's build and boots
   * are then the bisection's, recorded in rows of their own (scope = this
   * child's workflow id), never over the rows of a revision of the same commit.
   */
  bisection?: string;
  /** a passing build of this sha and config made earlier (a bisection booting a commit again): boot it, do not build */
  prebuilt?: { build: BuildResult };
  /** the boots' priority (domain/boardPriority.ts); absent = the workflow's own, which its starter set */
  bootPriority?: Priority;
}

/** Labs found served by the check before dispatch, at a workflow time (ms since the epoch). */
export interface LabsSeenOnline {
  at: number;
  /** labs with at least one platform served (all that a run from before the per-platform queues knew) */
  labs: string[];
  /** by lab: its platforms found served */
  platforms?: Record<string, string[]>;
}

export interface BootTarget {
  platform: PlatformConfig;
  lab: Pick<LabConfig, 'name' | 'adapter' | 'scheduleToStartTimeout' | 'bootTimeout' | 'offlineGrace'> &
    Partial<Pick<LabConfig, 'attempts' | 'bootMargin' | 'heartbeatTimeout'>> & {
      /** `attempts` in the input of runs started before the key was renamed (see labAttempts) */
      retries?: number;
    };
  /** the tree's test plans that apply to this build config on this platform */
  tests?: BootTests;
}

/** Tries of a boot on this lab, the first included; runs started before the rename carry it as `retries`. */
export function labAttempts(lab: BootTarget['lab']): number {
  return lab.attempts ?? lab.retries ?? 3;
}

export interface BuildBootResult {
  config: string;
  arch: string;
  /** the builds row, when recorded */
  buildId?: number;
  build: BuildResult;
  boots: BootResult[];
}
