/**
 * The JSON shapes of the API (and what the pages render): database rows
 * with camelCase keys, ISO timestamps and numeric ids. Secrets (token
 * hashes, task tokens) are never selected. Builds and boots have their row
 * model in plumbing/db/rows.ts, shared with the report mails. Each shape
 * is a zod schema (the API contract, dashboard/openapi.ts) with its type
 * inferred; rows are mapped, not parsed, on the way out.
 */
import { z } from 'zod';
import { isoTime } from '../../plumbing/db/rows';

const text = z.string();
const int = z.number().int();
const nullable = <S extends z.ZodType>(s: S) => s.nullable();

export const revisionSchema = z
  .strictObject({
    id: int,
    tree: text,
    branch: text,
    sha: text,
    describe: text,
    subject: text,
    author: text,
    authorEmail: text,
    committedAt: nullable(isoTime),
    status: text,
    result: nullable(text),
    summary: z.unknown(),
    message: nullable(text),
    workflowId: nullable(text),
    startedAt: isoTime,
    finishedAt: nullable(isoTime),
  })
  .meta({ id: 'Revision' });
export type Revision = z.infer<typeof revisionSchema>;

export const regressionSchema = z
  .strictObject({
    id: int,
    tree: text,
    branch: text,
    kind: text,
    config: text,
    platform: text,
    state: text,
    lastGoodSha: nullable(text),
    firstBadSha: text,
    firstBadAt: isoTime,
    lastBadSha: nullable(text),
    fixedSha: nullable(text),
    bisectionId: nullable(int),
    reopenedSha: nullable(text).describe(
      'the revision that failed again after the fix, while the regression is open again',
    ),
    flaps: int.describe('times it failed again after a fix'),
    onlyInLabs: z
      .array(text)
      .describe('labs that fail while another lab passes the same kernel ([] when every lab fails)'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Regression' });
export type Regression = z.infer<typeof regressionSchema>;

/** One transition of a regression (regression_history). */
export const regressionEventSchema = z.strictObject({
  sha: text,
  event: z.enum(['failed', 'fixed', 'failed-again']),
  at: isoTime,
});
export type RegressionEvent = z.infer<typeof regressionEventSchema>;

/** The flakiness of one (build config, platform, lab) series (boot_flakiness, domain/flakiness.ts). */
export const flakinessSchema = z
  .strictObject({
    config: text,
    platform: text,
    lab: text,
    kernels: int,
    boots: int,
    flakes: int,
    flakeRate: z.number().min(0).max(1),
    series: z
      .array(z.strictObject({ tree: text, sha: text, outcomes: z.string().regex(/^[FP]+$/) }))
      .describe('newest kernel first; outcomes as letters (F fail, P pass) in run order'),
    updatedAt: isoTime,
  })
  .meta({ id: 'Flakiness' });
export type Flakiness = z.infer<typeof flakinessSchema>;

export const bisectionSchema = z
  .strictObject({
    id: int,
    workflowId: text,
    tree: text,
    branch: nullable(text),
    goodSha: text,
    badSha: text,
    config: text,
    platform: text,
    lab: nullable(text),
    status: text,
    culpritSha: nullable(text),
    verdict: z.unknown(),
    steps: z.unknown(),
    bisectLog: nullable(text),
    createdAt: isoTime,
    finishedAt: nullable(isoTime),
  })
  .meta({ id: 'Bisection' });
export type Bisection = z.infer<typeof bisectionSchema>;

export const reportSchema = z
  .strictObject({
    id: int,
    messageId: text,
    kind: text,
    tree: text,
    branch: nullable(text),
    sha: nullable(text),
    subject: text,
    recipients: z.unknown(),
    inReplyTo: nullable(text),
    status: text.describe('sending | sent | unconfirmed (the SMTP server may have it: an operator decides)'),
    emlKey: nullable(text),
    emlExpiredAt: nullable(isoTime).describe('when the retention sweep removed the stored mail'),
    attempts: int.describe('delivery attempts so far'),
    attemptAt: nullable(isoTime),
    lastError: nullable(text),
    transport: nullable(text).describe('smtp | outbox'),
    dataAsOf: nullable(isoTime).describe('when the results the mail reports were read'),
    createdAt: isoTime,
    sentAt: nullable(isoTime),
  })
  .meta({ id: 'Report' });
export type Report = z.infer<typeof reportSchema>;

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

export const statusCountsSchema = z.record(z.string(), z.number().int()).describe('count per status');
export type StatusCounts = z.infer<typeof statusCountsSchema>;

/** `{pass: 3, fail: 1}` from rows of (status, n). */
export function countsOf(rows: readonly { status: string; n: string | number }[]): StatusCounts {
  const out: StatusCounts = {};
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + Number(r.n);
  return out;
}
