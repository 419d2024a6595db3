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
 * - `still-failing`: fails now and failed before, after an earlier pass (or
 *   its regression is still open);
 * - `failing-again`: fails now, and a regression of the series was fixed
 *   within the last REOPEN_WINDOW revisions: that regression, reopened (one
 *   regression and one bisection for a failure that flaps);
 * - `fixed`: passes now, its last verdict failed (or its regression was open);
 * - `no-history`: fails now and never passed before (not a regression: nothing to bisect from).
 * Series that pass and passed (or have no history) are left out.
 *
 * A boot series fails at a revision when any lab's verdict is fail; when
 * another lab passes the same kernel on the same platform, the failure is
 * lab-specific (`onlyInLabs`), reported as "fails only in lab X".
 */
export type SeriesState = 'new-regression' | 'still-failing' | 'failing-again' | 'fixed' | 'no-history';

/** Revisions after a regression's fix within which a new failure of its series reopens it. */
export const REOPEN_WINDOW = 10;

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
  /** failing-again: the revision whose pass had fixed the regression */
  fixedSha?: string | null;
  /** boot series: labs that fail while another lab passes the same kernel ([] when no lab passes it) */
  onlyInLabs?: string[];
  /** boot series: the labs that pass it, when some fail */
  passingInLabs?: string[];
  /** boot series, from recordRegressions: the flake rate of each lab's series (domain/flakiness.ts) */
  flakeRates?: Record<string, number>;
}

/** A boot verdict that would change a regression's state, to be booted again before it is believed. */
export interface BootToConfirm {
  config: string;
  platform: string;
  /** the labs to boot again: those whose latest verdict is the one to confirm */
  labs: string[];
  /** the `run` number the confirmation boot is recorded under */
  run: number;
  /** what is confirmed: a failure (new, failing again, first seen) or a pass (fixed) */
  confirming?: 'fail' | 'pass';
}

export interface RegressionActivities {
  /** Classify every series of the revision and record regressions (last good / first bad) and fixes. Idempotent. */
  recordRegressions(rev: RevisionKey): Promise<SeriesClassification[]>;
  /** Boot series that fail as a new regression and have had fewer than `confirmations` re-runs (before the `confirm-both-ways` patch). */
  candidateNewBootRegressions(rev: RevisionKey, opts?: { confirmations?: number }): Promise<BootToConfirm[]>;
  /**
   * Boot series whose verdict at this revision would open, reopen or close a
   * regression (or is the first failure of a series), with fewer confirmation
   * runs than they need: `confirmations`, or more on a series whose flake
   * rate asks for it (domain/flakiness.ts confirmationsNeeded).
   */
  bootsToConfirm(rev: RevisionKey, opts: { confirmations: number }): Promise<BootToConfirm[]>;
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
