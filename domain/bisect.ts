/**
 * The bisection contract: what the `bisect` workflow takes, what it keeps in
 * its (carried-over) state, what it concludes, and the activities it calls;
 * and what a tree's `bisect` settings give it. The workflow imports this
 * module, so no I/O here.
 */
import type { BuildConfig, TreeConfig } from './config';
import type { BootTarget, BuildResult, BuildStatus } from './types';
import type { Status } from './status';

/** What one tested commit says about the regression. */
export type StepVerdict = 'good' | 'bad' | 'skip';

/**
 * Why a commit was booted: the endpoint checks, a search step, a re-test of
 * a commit already tested (a split vote, a contradiction with the commit
 * graph, a verification that contradicted it), the culprit's verification
 * boots, or the boots of the bad commit with the culprit reverted.
 */
export type StepRole = 'good-endpoint' | 'bad-endpoint' | 'candidate' | 'retest' | 'verify' | 'revert';

export interface BisectStep {
  sha: string;
  subject: string;
  /** `git describe` of the commit, when known */
  describe?: string;
  role: StepRole;
  /** 0 for the endpoint check, then 1, 2, … (k candidates are tested per round) */
  round: number;
  verdict: StepVerdict;
  build: BuildStatus | 'not-run';
  /** the status of the boot shown: one that agrees with the verdict, else the last; absent when nothing booted */
  boot?: Status;
  /** build-boot children run for this step (more than one after infrastructure errors) */
  attempts: number;
  /** the child workflow that ran the boot shown (`boot`, `logKey`), else its last child */
  workflowId: string;
  /** the log of the boot shown: one that agrees with the verdict (the last attempt's, in a single-boot step) */
  logKey?: string;
  /** the line that decided the verdict, or why the step was skipped */
  message: string;
  /** for candidates: commits of the round's range it reaches (orders several bad results) */
  weight?: number;
  /** boots of this step that passed and that failed (absent in bisections recorded before votes were kept: one boot) */
  passes?: number;
  fails?: number;
  /** boots this step ran, whatever their status (infrastructure errors included) */
  boots?: number;
}

export interface BisectCandidate {
  sha: string;
  subject: string;
  describe: string;
  /** commits of the remaining range this one reaches, itself included */
  weight: number;
}

/** A search state's question to the commit graph. */
export interface CandidateQuery {
  good: string[];
  bad: string;
  skipped: string[];
  /** commits to test in the next round (boards free) */
  k: number;
}

export type NextCandidates =
  /** test these; `remaining` commits (bad included) may still hold the first bad commit */
  | { kind: 'test'; candidates: BisectCandidate[]; remaining: number }
  /** every commit of the range but `culprit` is known good: it is the first bad commit */
  | { kind: 'found'; culprit: string; remaining: number }
  /** only skipped commits are left; the first bad commit is one of `suspects` (bad last) */
  | { kind: 'only-skipped'; suspects: string[]; remaining: number };

/** The resolved endpoints of a bisection, after any merge-base substitution. */
export interface BisectRange {
  /** the good commit as given (full sha) */
  givenGood: string;
  bad: string;
  badSubject: string;
  /** the good bounds: the given good commit, or the merge bases when it is not an ancestor of bad */
  good: string[];
  goodSubjects: string[];
  /** the given good commit was not an ancestor of bad (a rebased branch) */
  fromMergeBase: boolean;
  /** commits in good..bad, bad included */
  size: number;
  /** `git describe` of bad and of each good bound */
  describes: Record<string, string>;
}

export interface BisectReportOptions {
  /** the tree's list(s) */
  to: string[];
  cc: string[];
  from: string;
  textOnly: boolean;
  /** addresses the culprit's commit may add beyond the list (default 10) */
  maxCommitRecipients?: number;
}

export interface BisectInput {
  tree: string;
  branch?: string;
  url: string;
  good: string;
  bad: string;
  config: BuildConfig;
  /** the one platform and lab the regression was seen on */
  target: BootTarget;
  /** commits tested per round (k-section); default 1 */
  parallel?: number;
  /** boots of the culprit (and of the revert) that must agree; default 3 */
  verifyRuns?: number;
  /**
   * The flake rate of the (config, platform, lab) series as the pipeline
   * recorded it (domain/flakiness.ts): flakes / verdict boots over its recent
   * kernels; set by the pipeline (workflows/followUps.ts) when it starts the bisection.
   */
  flakeRate?: number;
  /** boots per bisection step and endpoint; default 1 */
  stepRuns?: number;
  /** above this flake rate every step is booted at least twice; default DEFAULT_FLAKE_THRESHOLD */
  flakeThreshold?: number;
  /** where the report goes; absent = no email */
  report?: BisectReportOptions;
  /** the regression this bisection explains; recorded as regressions.bisection_id */
  regressionId?: number;
  /** passed to the buildBoot children (see BuildBootInput) */
  buildQueueByArch?: boolean;
  taskQueuePrefix?: string;
  /** continue-as-new after this many rounds in one run (default 40) */
  roundsPerRun?: number;
  /** what a previous run of this bisection knew (continue-as-new) */
  carried?: { search: BisectSearchState; bisectionId: number };
}

/** Above this flake rate a platform's steps are booted at least twice (bisect.flakeThreshold's default). */
export const DEFAULT_FLAKE_THRESHOLD = 0.05;

/** What the tree's `bisect` config gives a bisection. */
export function bisectSettings(
  cfg: TreeConfig['bisect'],
): Pick<BisectInput, 'parallel' | 'verifyRuns' | 'stepRuns' | 'flakeThreshold'> {
  return {
    parallel: cfg.parallel,
    verifyRuns: cfg.verifyRuns,
    stepRuns: cfg.stepRuns,
    flakeThreshold: cfg.flakeThreshold,
  };
}

/** A build already made for the bisection, booted again instead of rebuilt (BuildBootInput.prebuilt). */
export interface KernelRef {
  build: BuildResult;
}

/**
 * A contradiction with the commit graph that survived its re-tests: `bad`
 * fails, yet `good`, which descends from it, boots. The breakage came, went
 * and (since the bad commit fails) came back.
 */
export interface NonMonotonic {
  bad: string;
  good: string;
  /** the nearest good commit before `bad`, when one is known: it broke in goodBefore..bad */
  goodBefore?: string;
}

/** Everything a bisection knows; carried across continue-as-new. */
export interface BisectSearchState {
  range: BisectRange;
  good: string[];
  bad: string;
  skipped: string[];
  steps: BisectStep[];
  round: number;
  /** the range's size (bad included) when each round's candidates were chosen */
  remaining: number[];
  /** builds made so far by sha, for more boots of the same kernel (absent in bisections from before builds were kept) */
  builds?: Record<string, KernelRef>;
  /** bad commits a good descendant contradicted, set aside so the search continues on the side of the bad commit */
  setAside?: string[];
  nonMonotonic?: NonMonotonic[];
  /** times a failed verification sent the search back to re-test what it contradicted */
  recoveries?: number;
  /** what the bisection did beyond the plain search, for the verdict (re-tests and what they changed) */
  notes?: string[];
}

export type CheckName = 'endpoints' | 'verify' | 'revert';
export type CheckOutcome = 'passed' | 'failed' | 'not-run' | 'not-applicable';

export interface BisectCheck {
  name: CheckName;
  outcome: CheckOutcome;
  detail: string;
}

export type BisectStatus = 'found' | 'not-found' | 'invalid' | 'error';

export interface BisectVerdict {
  status: BisectStatus;
  /** one line a maintainer reads first, e.g. "endpoints don't reproduce: good failed" */
  summary: string;
  /** the history broke, was fixed and broke again: the contradictions seen (the culprit is the breakage nearest bad) */
  nonMonotonic?: NonMonotonic[];
  /** re-tests and what they changed, one line each: the evidence behind an answer on a noisy board */
  notes?: string[];
  culprit?: { sha: string; subject: string };
  /** when only skipped commits were left: the commits that may be the first bad one */
  suspects?: string[];
  /** the culprit passed every check that could run (verify, and revert when it applied) */
  confirmed: boolean;
  checks: BisectCheck[];
}

export interface BisectResult {
  verdict: BisectVerdict;
  steps: BisectStep[];
  /** search steps (candidates only; endpoints and checks excluded) and rounds */
  searchSteps: number;
  rounds: number;
  bisectLog: string;
  bisectionId: number;
  reportMessageId?: string;
  /** boots the bisection ran, all roles and statuses together (absent from bisections run before it was counted) */
  boots?: number;
}

/** Author and the people its trailers name, for the report's recipients. */
export interface CulpritInfo {
  sha: string;
  subject: string;
  author: string;
  authorEmail: string;
  /** the values of its Signed-off-by, Reviewed-by and Acked-by trailers, as written (not yet parsed or checked) */
  trailerEntries: string[];
  describe: string;
  /** the commit's parents (absent from activities that predate it) */
  parents?: string[];
}

export type RevertOutcome =
  /** the revert commit exists in the tree's mirror (on `ref`), so the builder finds it there */
  { applied: true; sha: string; ref: string; describe: string } | { applied: false; reason: string };

export interface BisectionRecordStart {
  workflowId: string;
  tree: string;
  branch?: string;
  good: string;
  bad: string;
  config: string;
  platform: string;
  lab: string;
  regressionId?: number;
}

export interface BisectionRecordEnd {
  workflowId: string;
  verdict: BisectVerdict;
  steps: BisectStep[];
  bisectLog: string;
}

export interface BisectReportRequest {
  workflowId: string;
  /** the bisections row, for the dashboard link */
  bisectionId: number;
  tree: string;
  url: string;
  branch?: string;
  configName: string;
  platform: string;
  lab: string;
  range: BisectRange;
  verdict: BisectVerdict;
  bisectLog: string;
  /** the culprit's failing boot log (artifact key), for the excerpt and the URL */
  failingLogKey?: string;
  /** the platform's failure patterns, to centre the excerpt on the failure */
  failurePatterns?: string[];
  report: BisectReportOptions;
}

/** What the commit graph says of a bisection's verdicts (activity bisectGraphCheck). */
export interface GraphCheck {
  /** bad commits that a good commit descends from: impossible in a monotonic history */
  contradictions: NonMonotonic[];
  /**
   * The bad commit that bounds the search: of the bad commits that no good
   * one reaches, the one that reaches the fewest commits no good one reaches
   * (ties: the last one given). Absent when every bad commit is reached.
   */
  bound?: string;
}

/** The activities the bisect workflow calls (implemented by activities/bisect). */
export interface BisectActivities {
  /** mirror the tree, resolve good and bad, substitute merge bases for a rebased good */
  bisectRange(input: { tree: string; url: string; good: string; bad: string }): Promise<BisectRange>;
  bisectCandidates(input: { tree: string; url: string } & CandidateQuery): Promise<NextCandidates>;
  bisectGraphCheck(input: { tree: string; url: string; good: string[]; bad: string[] }): Promise<GraphCheck>;
  culpritInfo(input: { tree: string; url: string; sha: string }): Promise<CulpritInfo>;
  prepareRevert(input: { tree: string; url: string; bad: string; culprit: string }): Promise<RevertOutcome>;
  recordBisectionStart(input: BisectionRecordStart): Promise<number>;
  recordBisectionSteps(input: { workflowId: string; steps: BisectStep[] }): Promise<void>;
  recordBisectionEnd(input: BisectionRecordEnd): Promise<void>;
  sendBisectReport(input: BisectReportRequest): Promise<{ messageId: string; status: string; recipients: string[] }>;
}

/** A bisection asked for by hand (`bootfarm bisect`, the dashboard's operator API): names and refs, resolved by the starter. */
export interface BisectionRequest {
  tree: string;
  branch?: string;
  good: string;
  bad: string;
  config: string;
  platform: string;
  lab?: string;
}
