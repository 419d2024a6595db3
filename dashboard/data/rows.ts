/**
 * The JSON shapes of the API (and what the pages render): database rows
 * with camelCase keys, ISO timestamps and numeric ids. Secrets (token
 * hashes, task tokens) are never selected.
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

export interface Build {
  id: number;
  tree: string;
  sha: string;
  config: string;
  arch: string;
  defconfig: string;
  toolchain: string;
  status: string;
  warnings: number;
  errors: number;
  durationMs: number | null;
  logKey: string | null;
  artifacts: Record<string, { key: string; size?: number }>;
  errorLines: string[];
  message: string | null;
  builder: string | null;
  workflowId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Boot {
  id: number;
  buildId: number;
  tree: string;
  sha: string;
  config: string;
  arch: string;
  platform: string;
  lab: string;
  run: number;
  status: string;
  durationMs: number | null;
  logKey: string | null;
  message: string | null;
  attempts: number;
  workflowId: string | null;
  createdAt: string;
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
  createdAt: string;
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

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

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
