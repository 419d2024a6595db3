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
  /** the bisection (its workflow id) whose build this is; null for a revision's own build */
  bisection: string | null;
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
  /** the bisection (its workflow id) whose boot this is; null for a revision's own boot */
  bisection: string | null;
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

type Row = Record<string, unknown>;

/**
 * A timestamp as the ISO text JavaScript would print, formatted by the
 * database: parsing hundreds of Dates and printing them again costs more
 * than the query itself on a revision page.
 */
const isoText = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${column}`;

export const BOOT_COLUMNS = [
  'id',
  'build_id',
  'tree',
  'sha',
  'config',
  'arch',
  'platform',
  'lab',
  'run',
  'status',
  'duration_ms',
  'log_key',
  'message',
  'attempts',
  'workflow_id',
  'bisection',
  isoText('created_at'),
  isoText('finished_at'),
].join(', ');

export const BUILD_COLUMNS = [
  'id',
  'tree',
  'sha',
  'config',
  'arch',
  'defconfig',
  'toolchain',
  'status',
  'warnings',
  'errors',
  'duration_ms',
  'log_key',
  'artifacts',
  'error_lines',
  'message',
  'builder',
  'workflow_id',
  'bisection',
  isoText('created_at'),
  isoText('finished_at'),
].join(', ');
const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : ((v as string | null) ?? null));
const str = (v: unknown): string | null => (v as string | null) ?? null;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

// The hot shapes (a revision has hundreds of boots) get fixed-shape mappers: several times faster than fromRow.

export function toBoot(r: Row): Boot {
  return {
    id: Number(r.id),
    buildId: Number(r.build_id),
    tree: r.tree as string,
    sha: r.sha as string,
    config: r.config as string,
    arch: r.arch as string,
    platform: r.platform as string,
    lab: r.lab as string,
    run: r.run as number,
    status: r.status as string,
    durationMs: num(r.duration_ms),
    logKey: str(r.log_key),
    message: str(r.message),
    attempts: r.attempts as number,
    workflowId: str(r.workflow_id),
    bisection: str(r.bisection),
    createdAt: iso(r.created_at) as string,
    finishedAt: iso(r.finished_at),
  };
}

export function toBuild(r: Row): Build {
  return {
    id: Number(r.id),
    tree: r.tree as string,
    sha: r.sha as string,
    config: r.config as string,
    arch: r.arch as string,
    defconfig: r.defconfig as string,
    toolchain: r.toolchain as string,
    status: r.status as string,
    warnings: r.warnings as number,
    errors: r.errors as number,
    durationMs: num(r.duration_ms),
    logKey: str(r.log_key),
    artifacts: (r.artifacts ?? {}) as Build['artifacts'],
    errorLines: (r.error_lines ?? []) as string[],
    message: str(r.message),
    builder: str(r.builder),
    workflowId: str(r.workflow_id),
    bisection: str(r.bisection),
    createdAt: iso(r.created_at) as string,
    finishedAt: iso(r.finished_at),
  };
}

export type StatusCounts = Record<string, number>;

/** `{pass: 3, fail: 1}` from rows of (status, n). */
export function countsOf(rows: readonly { status: string; n: string | number }[]): StatusCounts {
  const out: StatusCounts = {};
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + Number(r.n);
  return out;
}
