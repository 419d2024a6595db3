import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Sql } from 'postgres';
import { ActivityNotFoundError } from '@temporalio/client';
import type { BootResult } from '../../domain/types';
import { hashLabToken } from '../../plumbing/labToken';
import { assertKey } from '../../plumbing/store/types';
import { bearerToken, RequestError, type Ctx } from '../http';
import { idParam, limitParam, nameParam } from '../validate';
import { isoTime } from '../../plumbing/db/rows';
import { labTestFields, labTestSummary } from './labTests';
import { bootResultSchema } from './bootResult';
import { apiRoute, BODY_REFUSALS, itemsOf, READ_REFUSALS, reply, type ApiRoute, type Guard } from './route';

/** What a lab posts when one of its boots has ended. */
export const labResultBody = z.strictObject({
  status: z.enum(['pass', 'fail', 'infra-error']),
  /** the whole console log, stored in the artifact store */
  log: z
    .string()
    .max(16 * 1024 * 1024, 'at most 16 MiB')
    .optional(),
  /** the line that decided the verdict */
  message: z.string().max(4000).optional(),
  durationMs: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400_000)
    .optional(),
  /** the boot's planned tests: KTAP, or structured results (dashboard/api/labTests.ts) */
  ...labTestFields,
});
export type LabResultBody = z.output<typeof labResultBody>;

export const labJobsQuery = z.strictObject({
  limit: limitParam.optional(),
  /** only the jobs of this platform (a lab host that has some of the lab's boards) */
  platform: nameParam.optional().describe("only this platform's jobs (a lab host that has some of the lab's boards)"),
});

const unauthorized = (message: string) =>
  new RequestError(401, message, 'authorization', { 'www-authenticate': 'Bearer realm="bootfarm-lab"' });

/** The lab a bearer token belongs to; 401 when none. */
async function authenticateLab(sql: Sql, ctx: Ctx): Promise<string> {
  const token = bearerToken(ctx.req);
  if (!token) throw unauthorized('a lab token is required: Authorization: Bearer <token>');
  if (token.length > 512) throw unauthorized('invalid lab token');
  const [lab] = await sql<{ name: string }[]>`select name from labs where token_hash = ${hashLabToken(token)} limit 1`;
  if (!lab) throw unauthorized('invalid lab token');
  if (ctx.params.lab !== lab.name) throw new RequestError(403, 'this token belongs to another lab', 'lab');
  return lab.name;
}

interface JobRow {
  id: string;
  lab: string;
  boot_key: string;
  status: string;
  request: Record<string, unknown> | null;
  created_at: Date;
}

function artifactUrls(base: string, request: Record<string, unknown> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const role of ['kernel', 'dtb', 'ramdisk']) {
    const ref = request?.[role] as { key?: unknown } | undefined;
    if (ref && typeof ref.key === 'string')
      out[role] = `${base.replace(/\/+$/, '')}/artifacts/${ref.key.split('/').map(encodeURIComponent).join('/')}`;
  }
  return out;
}

function platformOf(request: Record<string, unknown> | null): string {
  const p = request?.platform;
  if (typeof p === 'string') return p;
  if (p && typeof p === 'object' && typeof (p as { name?: unknown }).name === 'string')
    return (p as { name: string }).name;
  return '';
}

/** A lab's own token, for its own queue only. */
const labGuard: Guard<string> = {
  scheme: 'labToken',
  description: 'a lab token from `bootfarm lab token NAME`',
  refusals: { 401: 'missing or invalid lab token', 403: "another lab's token" },
  check: (ctx, deps) => authenticateLab(deps.sql, ctx),
};

/** The documented example lab is `local`, the fuzz test's lab (test/dashboard/fuzz.test.ts). */
const labName = nameParam.meta({ examples: ['local'] });

const labJobSchema = z
  .strictObject({
    id: z.number().int(),
    bootKey: z.string(),
    platform: z.string(),
    createdAt: isoTime,
    request: z.unknown(),
    artifacts: z.record(z.string(), z.string()).describe('artifact role → URL'),
    resultUrl: z.string(),
  })
  .meta({ id: 'LabJob' });

/**
 * The API lab adapter's other half: a lab with no worker lists its pending
 * boots and posts each result, which completes the waiting boot activity
 * with its stored task token.
 */
export const labRoutes: ApiRoute[] = [
  apiRoute({
    method: 'GET',
    path: '/api/labs/{lab}/jobs',
    summary: "The lab's pending boots (API labs)",
    guard: labGuard,
    params: z.strictObject({ lab: labName }),
    query: labJobsQuery,
    answers: { 200: { description: 'OK', schema: itemsOf(labJobSchema) } },
    refusals: READ_REFUSALS,
    handle: async ({ caller: lab, query }, deps) => {
      const { sql } = deps;
      const { limit = 100, platform } = query;
      const rows = await sql<JobRow[]>`
        select id, lab, boot_key, status, request, created_at from lab_jobs
        where lab = ${lab} and status = 'pending'
          and (${platform ?? null}::text is null or request->'platform'->>'name' = ${platform ?? null})
        order by created_at, id limit ${limit}`;
      await sql`update labs set last_poll_at = now() where name = ${lab}`;
      return reply(200, {
        items: rows.map((r) => ({
          id: Number(r.id),
          bootKey: r.boot_key,
          platform: platformOf(r.request),
          createdAt: r.created_at.toISOString(),
          request: r.request,
          artifacts: artifactUrls(deps.baseUrl(), r.request),
          resultUrl: `${deps.baseUrl().replace(/\/+$/, '')}/api/labs/${encodeURIComponent(lab)}/jobs/${r.id}/result`,
        })),
      });
    },
  }),
  apiRoute({
    method: 'POST',
    path: '/api/labs/{lab}/jobs/{id}/result',
    summary: 'Post the result of one of the lab’s boots; completes the waiting boot',
    guard: labGuard,
    params: z.strictObject({ lab: labName, id: idParam }),
    body: labResultBody,
    answers: {
      200: {
        description: 'recorded',
        schema: z.strictObject({
          id: z.number().int(),
          status: z.literal('done'),
          result: bootResultSchema.describe(
            "the boot result delivered to the waiting boot, with its test plan's results when it has one",
          ),
        }),
      },
    },
    refusals: {
      ...BODY_REFUSALS,
      403: "another lab's job",
      404: 'no such job',
      409: 'the job is not pending any more',
      503: 'no Temporal client configured',
    },
    handle: async ({ caller: lab, params: { id }, body: readBody }, deps) => {
      const { sql, store } = deps;
      const bodyPromise = readBody();
      bodyPromise.catch(() => {}); // judged after the job is found
      const [job] = await sql<
        JobRow[]
      >`select id, lab, boot_key, status, request, created_at from lab_jobs where id = ${id}`;
      if (!job) {
        await bodyPromise.catch(() => {});
        throw new RequestError(404, 'job not found', 'id');
      }
      if (job.lab !== lab) {
        await bodyPromise.catch(() => {});
        throw new RequestError(403, "this job belongs to another lab's queue", 'id');
      }
      const body = await bodyPromise;
      const client = deps.client;
      if (!client)
        throw new RequestError(503, 'this dashboard has no Temporal client: results cannot be delivered now');
      const tests = await labTestSummary(store, `lab-jobs/${lab}/${id}`, job.request, body);

      const outcome = await sql.begin(async (tx) => {
        const [locked] = await tx<
          { status: string; task_token: Buffer }[]
        >`select status, task_token from lab_jobs where id = ${id} for update`;
        if (locked.status !== 'pending') return { refused: `this job is ${locked.status}, not pending` } as const;
        // Each post stores its log under a key of its own: a retried post (its first completion went
        // through but the commit did not) must never overwrite or delete the log the boot recorded.
        const logRef =
          body.log !== undefined
            ? await store.put(
                assertKey(`lab-jobs/${lab}/${id}/${randomBytes(6).toString('hex')}/console.log`),
                body.log,
                { contentType: 'text/plain' },
              )
            : undefined;
        const result: BootResult = {
          status: body.status,
          platform: platformOf(job.request),
          lab,
          durationMs: body.durationMs ?? 0,
          ...(logRef ? { log: logRef } : {}),
          message: body.message ?? `reported by lab ${lab}: ${body.status}`,
          ...(tests ? { tests } : {}),
        };
        try {
          await client.activity.complete(locked.task_token, result);
        } catch (e) {
          // Any other failure may have completed the boot all the same (a lost answer): keep the log.
          if (!(e instanceof ActivityNotFoundError)) throw e;
          // Nothing waits for this result: this post's own log is referenced by nothing.
          if (logRef) await store.delete(logRef.key).catch(() => {});
          await tx`update lab_jobs set status = 'expired', completed_at = now() where id = ${id}`;
          return {
            refused: 'the boot no longer waits for this result (timed out, cancelled or already answered)',
          } as const;
        }
        await tx`update lab_jobs set status = 'done', completed_at = now() where id = ${id}`;
        await tx`update labs set last_result_at = now() where name = ${lab}`;
        return { result } as const;
      });
      if ('refused' in outcome) throw new RequestError(409, outcome.refused ?? 'refused', 'id');
      return reply(200, { id, status: 'done' as const, result: outcome.result });
    },
  }),
];
