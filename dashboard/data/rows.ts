/**
 * The JSON shapes of the API (and what the pages render): database rows
 * with camelCase keys, ISO timestamps and numeric ids. Secrets (token
 * hashes, task tokens) are never selected. Builds and boots have their row
 * model in plumbing/db/rows.ts, shared with the report mails.
 */

export interface Revision {
  id: number;
  tree: string;
  branch: string;
  sha: string;
  describe: string;
  subject: string;
  author: string;
  authorEmail: string;
  committedAt: string | null;
  status: string;
  result: string | null;
  summary: unknown;
  message: string | null;
  workflowId: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface Regression {
  id: number;
  tree: string;
  branch: string;
  kind: string;
  config: string;
  platform: string;
  state: string;
  lastGoodSha: string | null;
  firstBadSha: string;
  firstBadAt: string;
  lastBadSha: string | null;
  fixedSha: string | null;
  bisectionId: number | null;
  /** the revision that failed again after the fix, while the regression is open again */
  reopenedSha: string | null;
  /** times it failed again after a fix */
  flaps: number;
  /** labs that fail while another lab passes the same kernel ([] when every lab fails) */
  onlyInLabs: string[];
  createdAt: string;
  updatedAt: string;
}

/** One transition of a regression (regression_history). */
export interface RegressionEvent {
  sha: string;
  event: 'failed' | 'fixed' | 'failed-again';
  at: string;
}

/** The flakiness of one (build config, platform, lab) series (boot_flakiness, domain/flakiness.ts). */
export interface Flakiness {
  config: string;
  platform: string;
  lab: string;
  kernels: number;
  boots: number;
  flakes: number;
  flakeRate: number;
  /** newest kernel first; outcomes as letters (F fail, P pass) in run order */
  series: { tree: string; sha: string; outcomes: string }[];
  updatedAt: string;
}

export interface Bisection {
  id: number;
  workflowId: string;
  tree: string;
  branch: string | null;
  goodSha: string;
  badSha: string;
  config: string;
  platform: string;
  lab: string | null;
  status: string;
  culpritSha: string | null;
  verdict: unknown;
  steps: unknown;
  bisectLog: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Report {
  id: number;
  messageId: string;
  kind: string;
  tree: string;
  branch: string | null;
  sha: string | null;
  subject: string;
  recipients: unknown;
  inReplyTo: string | null;
  status: string;
  emlKey: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** bigint columns that are ids: postgres returns them as strings. */
const NUMERIC = new Set(['id', 'build_id', 'bisection_id']);

const CAMEL = new Map<string, string>();
function camel(key: string): string {
  let c = CAMEL.get(key);
  if (c === undefined) {
    c = key.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
    CAMEL.set(key, c);
  }
  return c;
}

/** A row as its API shape. The query decides the columns; this only renames and converts. */
export function fromRow<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    out[camel(key)] =
      value instanceof Date
        ? value.toISOString()
        : NUMERIC.has(key) && typeof value === 'string' && /^\d+$/.test(value)
          ? Number(value)
          : value;
  }
  return out as T;
}

export type StatusCounts = Record<string, number>;

/** `{pass: 3, fail: 1}` from rows of (status, n). */
export function countsOf(rows: readonly { status: string; n: string | number }[]): StatusCounts {
  const out: StatusCounts = {};
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + Number(r.n);
  return out;
}
