/**
 * One row model per results table (builds, boots): the columns a reader
 * selects and the camelCase shape they become, shared by the report mails
 * (activities/report/model.ts) and the dashboard's pages and API
 * (dashboard/data/), so the two never read a row differently.
 */

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
  /** when the retention sweep removed the artifacts (all but the log) from the store; null while they are there */
  artifactsExpiredAt: string | null;
  /** when the retention sweep removed the build log */
  logExpiredAt: string | null;
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
  /** when the retention sweep removed the console log; null while it is there */
  logExpiredAt: string | null;
  createdAt: string;
  finishedAt: string | null;
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
  isoText('log_expired_at'),
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
  isoText('artifacts_expired_at'),
  isoText('log_expired_at'),
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
    logExpiredAt: iso(r.log_expired_at),
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
    artifactsExpiredAt: iso(r.artifacts_expired_at),
    logExpiredAt: iso(r.log_expired_at),
    createdAt: iso(r.created_at) as string,
    finishedAt: iso(r.finished_at),
  };
}
