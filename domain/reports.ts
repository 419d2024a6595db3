/**
 * Contracts of the regression and report activities, imported by workflows
 * for types (and the pure Message-ID builder). Nothing here may do I/O.
 */

export interface RevisionKey {
  tree: string;
  branch: string;
  sha: string;
}

export type SeriesKind = 'build' | 'boot';

/**
 * How one series (tree, branch, build config, platform) stands at a revision,
 * compared with the earlier revisions of the same branch:
 * - `new-regression`: fails now, its last verdict passed;
 * - `still-failing`: fails now and failed before, after an earlier pass;
 * - `fixed`: passes now, its last verdict failed;
 * - `no-history`: fails now and never passed before (not a regression: nothing to bisect from);
 * - `conflict`: labs disagree at this revision (one passes, one fails): reported, not tracked.
 * Series that pass and passed (or have no history) are left out.
 */
export type SeriesState = 'new-regression' | 'still-failing' | 'fixed' | 'no-history' | 'conflict';

export interface SeriesClassification {
  kind: SeriesKind;
  config: string;
  /** '' for builds */
  platform: string;
  state: SeriesState;
  /** the last revision that passed before the failure (bisection's good end) */
  lastGoodSha: string | null;
  /** the first revision that failed (bisection's bad end) */
  firstBadSha: string | null;
  /** when the first failing revision was tested (ISO 8601) */
  since: string | null;
  /** whole days between the first failing revision and this one */
  failingDays: number | null;
}

/** A boot failure that would be a new regression, to be booted again before it is reported as one. */
export interface BootToConfirm {
  config: string;
  platform: string;
  /** labs whose latest verdict is fail */
  labs: string[];
  /** the `run` number the confirmation boot is recorded under */
  run: number;
}

export interface RegressionActivities {
  /** Classify every series of the revision and record regressions (last good / first bad) and fixes. Idempotent. */
  recordRegressions(rev: RevisionKey): Promise<SeriesClassification[]>;
  /** Boot series that fail as a new regression and have had fewer than `confirmations` re-runs. */
  candidateNewBootRegressions(rev: RevisionKey, opts?: { confirmations?: number }): Promise<BootToConfirm[]>;
}

export type ReportKind = 'build' | 'boot';

export interface ReportRecipients {
  from: string;
  to: string[];
  cc: string[];
  /** no HTML alternative part (lists that want plain text only) */
  textOnly: boolean;
}

export interface RevisionReportRequest extends RevisionKey {
  kind: ReportKind;
  messageId: string;
  recipients: ReportRecipients;
  /** for a follow-up: the earlier messages of the thread, oldest first; the last one is replied to */
  thread?: string[];
}

export type SendStatus =
  /** delivered now */
  | 'sent'
  /** an earlier attempt (or run) delivered this Message-ID already */
  | 'already-sent'
  /** an earlier attempt died while handing the message over: it may or may not have gone out; not resent */
  | 'unconfirmed'
  /** a follow-up with no result newer than the thread's last message: nothing sent */
  | 'nothing-new';

export interface SendResult {
  messageId: string;
  status: SendStatus;
  subject: string;
}

export interface ReportActivities {
  sendRevisionReport(req: RevisionReportRequest): Promise<SendResult>;
}

/** 32-bit FNV-1a, hex: a short, deterministic fingerprint usable in workflow code. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The Message-ID of one report, the same on every retry of the activity or of
 * the workflow: `<build.rev-demo-master-abcdef012345.1f2e3d4c@bootfarm>`.
 * The readable part flattens ':' and other characters not allowed in a
 * Message-ID to '-', which could make two ids collide (tree `a-b` branch `c`
 * and tree `a` branch `b-c`); the fingerprint of the exact input keeps them apart.
 */
export function reportMessageId(workflowId: string, kind: string, domain = 'bootfarm'): string {
  // capped so the id, and the outbox file named after it, stay short whatever the branch name
  const readable = `${kind}.${workflowId}`.replace(/[^A-Za-z0-9._+-]/g, '-').slice(0, 100);
  return `<${readable}.${fnv1a(`${kind}\n${workflowId}`)}@${domain}>`;
}
