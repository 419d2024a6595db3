/**
 * One row model per results table (builds, boots): the columns a reader
 * selects and the camelCase shape they become, shared by the report mails
 * (activities/report/model.ts) and the dashboard's pages and API
 * (dashboard/data/), so the two never read a row differently. The zod
 * schemas are the API's contract (dashboard/openapi.ts documents them); the
 * mappers below build the shape without parsing (a revision has hundreds of
 * boots), and the API tests check real answers against the schemas.
 */
import { z } from 'zod';

/** A timestamp as the API and the report models carry it: ISO 8601 in UTC. */
export const isoTime = z.iso.datetime();
const nullable = <S extends z.ZodType>(s: S) => s.nullable();
const text = z.string();
const int = z.number().int();

export const buildSchema = z
  .strictObject({
    id: int,
    tree: text,
    sha: text,
    config: text,
    arch: text,
    defconfig: text,
    toolchain: text,
    status: text,
    warnings: int,
    errors: int,
    durationMs: nullable(int),
    logKey: nullable(text),
    artifacts: z.record(z.string(), z.looseObject({ key: z.string(), size: z.number().optional() })),
    errorLines: z.array(z.string()),
    message: nullable(text),
    builder: nullable(text),
    workflowId: nullable(text),
    bisection: nullable(text).describe(
      "the bisection (its workflow id) whose build this is; null for a revision's own build",
    ),
    artifactsExpiredAt: nullable(isoTime).describe(
      'when the retention sweep removed the artifacts (all but the log) from the store; null while they are there',
    ),
    logExpiredAt: nullable(isoTime).describe('when the retention sweep removed the build log'),
    createdAt: isoTime,
    finishedAt: nullable(isoTime),
  })
  .meta({ id: 'Build' });
export type Build = z.infer<typeof buildSchema>;

export const bootSchema = z
  .strictObject({
    id: int,
    buildId: int,
    tree: text,
    sha: text,
    config: text,
    arch: text,
    platform: text,
    lab: text,
    run: int,
    status: text,
    durationMs: nullable(int),
    logKey: nullable(text),
    message: nullable(text),
    attempts: int,
    workflowId: nullable(text),
    bisection: nullable(text).describe(
      "the bisection (its workflow id) whose boot this is; null for a revision's own boot",
    ),
    logExpiredAt: nullable(isoTime).describe(
      'when the retention sweep removed the console log; null while it is there',
    ),
    createdAt: isoTime,
    finishedAt: nullable(isoTime),
  })
  .meta({ id: 'Boot' });
export type Boot = z.infer<typeof bootSchema>;

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
