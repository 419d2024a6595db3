/**
 * `bootfarm try` over REST, with a developer token (scope `try`):
 *
 *   POST /api/try/uploads?role=kernel|ramdisk|dtb   the file as the body (application/octet-stream)
 *   POST /api/try                                   {kernel, ramdisk?, dtb?, platform, lab?, plan?} (upload keys)
 *   GET  /api/try/{id}                              the run: running, or its boot, console and test results
 *
 * An upload larger than try.maxUploadMb is refused as it streams in (413,
 * nothing stored); uploads and tries are rate-limited per developer (429
 * with retry-after). The checks of what was uploaded (a kernel for the
 * platform's arch, by its header) are the starter's (plumbing/temporal/tryRuns.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { WorkflowNotFoundError, type WorkflowExecutionStatusName } from '@temporalio/client';
import { TRY_FILE_ROLES, trySchema, type TryFileRole, type TryRequest, type TryResult } from '../../domain/tryRun';
import { RateLimitedError, tryAdmin } from '../../plumbing/db/tryAdmin';
import { assertKey } from '../../plumbing/store/types';
import type { Deps } from '../deps';
import { bearerToken, RequestError, type Ctx } from '../http';
import { nameParam } from '../validate';
import { workflowUrl } from '../pages/layout';
import { apiRoute, BODY_REFUSALS, octetStream, reply, type ApiRoute, type Guard, type Refusals } from './route';
import { bootResultSchema } from './bootResult';

const roleSchema = z.enum(TRY_FILE_ROLES as [TryFileRole, ...TryFileRole[]]);
export const tryUploadQuery = z.strictObject({ role: roleSchema.describe('what the file is') });

const uploadKey = z
  .string()
  .max(300)
  .regex(/^try\/[A-Za-z0-9._@+-]+\/[0-9a-f]{16}\/(kernel|ramdisk|dtb)$/, 'an upload key');
export const startTryBody = z.strictObject({
  kernel: uploadKey,
  ramdisk: uploadKey.optional(),
  dtb: uploadKey.optional(),
  platform: nameParam,
  lab: nameParam.optional(),
  plan: nameParam.optional(),
});

/** Console bytes a run's answer carries (the end of it); the whole log is an artifact. */
const CONSOLE_TAIL = 256 * 1024;
const TRY_ID = /^try:[A-Za-z0-9._@+-]{1,100}:[0-9a-f]{12}$/;

const unauthorized = (message: string) =>
  new RequestError(401, message, 'authorization', { 'www-authenticate': 'Bearer realm="bootfarm-try"' });

/** The developer a `try` token belongs to; 401 when none. */
async function developerOf(deps: Deps, ctx: Ctx): Promise<string> {
  const token = bearerToken(ctx.req);
  if (!token)
    throw unauthorized('a developer token is required: Authorization: Bearer <token> (`bootfarm try token NAME`)');
  const developer = token.length <= 512 ? await tryAdmin(deps.sql).developerOf(token) : undefined;
  if (!developer) throw unauthorized('invalid developer token');
  return developer;
}

/** A developer's own token (scope try): their uploads and runs only. */
const developerGuard: Guard<string> = {
  scheme: 'developerToken',
  description: 'a developer token (scope try) from `bootfarm try token NAME`',
  refusals: { 401: 'missing or invalid developer token' },
  check: (ctx, deps) => developerOf(deps, ctx),
};

function limited(e: unknown): never {
  if (e instanceof RateLimitedError)
    throw new RequestError(429, e.message, 'developer', { 'retry-after': String(e.retryAfterS) });
  throw e;
}

const limitsOf = (deps: Deps) => deps.tryLimits ?? trySchema.parse({});

const UNAVAILABLE: Refusals = { 501: 'this deployment cannot start or read workflows (no Temporal client)' };
const unavailable = () =>
  new RequestError(501, '`bootfarm try` is not available in this deployment (no Temporal client)');

const uploadSchema = z.strictObject({
  key: z.string().describe('what POST /api/try takes as kernel, ramdisk or dtb'),
  role: roleSchema,
  size: z.number().int().describe('bytes'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const startedTrySchema = z.strictObject({
  workflowId: z.string(),
  url: z.string().describe("the workflow in Temporal's web UI"),
  resultUrl: z.string().describe('GET it for the run and, once it ended, its boot'),
});

export const tryResultSchema = z
  .strictObject({ developer: z.string(), platform: z.string(), lab: z.string(), boot: bootResultSchema })
  .meta({ id: 'TryResult' });

/** Temporal's status names of a workflow that has no result, as a run's answer spells them. */
type RunStatus = Lowercase<Exclude<WorkflowExecutionStatusName, 'COMPLETED'>>;
const RUN_STATUSES = [
  'running',
  'failed',
  'cancelled',
  'terminated',
  'continued_as_new',
  'timed_out',
  'paused',
  'unspecified',
  'unknown',
] as const satisfies readonly RunStatus[];
const runStatus = (name: Exclude<WorkflowExecutionStatusName, 'COMPLETED'>) => name.toLowerCase() as RunStatus;

/** A run still going or ended without a result (failed, cancelled, terminated, timed out), or completed. */
const tryRunSchema = z.union([
  z.strictObject({
    workflowId: z.string(),
    status: z.enum(RUN_STATUSES).describe('running, or how it ended without a boot'),
    url: z.string(),
  }),
  z.strictObject({
    workflowId: z.string(),
    status: z.literal('completed'),
    url: z.string(),
    result: tryResultSchema,
    console: z.string().describe("the end of the boot's console (its last 256 KiB); the whole log is result.boot.log"),
  }),
]);

/** The routes of `bootfarm try` (above), in the API's route table. */
export const tryRoutes: ApiRoute[] = [
  apiRoute({
    method: 'POST',
    path: '/api/try/uploads',
    summary: 'Upload a file for `bootfarm try` (a kernel, ramdisk or dtb); returns its key',
    description: 'Rate-limited per developer (try.uploadsPerHour).',
    guard: developerGuard,
    query: tryUploadQuery,
    body: octetStream('the file itself, at most try.maxUploadMb MiB', (deps) => ({
      bytes: limitsOf(deps).maxUploadMb * 1024 * 1024,
      setting: 'try.maxUploadMb',
    })),
    answers: { 201: { description: 'stored', schema: uploadSchema } },
    refusals: {
      400: 'invalid role, or an empty upload',
      413: 'larger than try.maxUploadMb: nothing stored',
      415: 'the body is not application/octet-stream',
      429: 'too many uploads in the last hour (see retry-after)',
    },
    handle: async ({ caller: developer, query: { role }, body }, deps) => {
      await tryAdmin(deps.sql).canUpload(developer, limitsOf(deps).uploadsPerHour).catch(limited);
      const data = await body();
      const key = assertKey(`try/${developer}/${randomBytes(8).toString('hex')}/${role}`);
      const sha256 = createHash('sha256').update(data).digest('hex');
      const ref = await deps.store.put(key, data, { contentType: 'application/octet-stream' });
      await tryAdmin(deps.sql).recordUpload(developer, { key, role, size: ref.size, sha256 });
      return reply(201, { key, role, size: ref.size, sha256 });
    },
  }),
  apiRoute({
    method: 'POST',
    path: '/api/try',
    summary: "Boot a developer's own kernel (uploaded files, by key) on a platform, optionally with a test plan",
    description:
      "The kernel must be an image for the platform's arch (checked by its header: x86 bzImage or multiboot, " +
      'arm64 Image, ARM zImage), the ramdisk a cpio archive, the dtb a device tree; nothing boots otherwise. ' +
      'Rate-limited per developer (try.perHour).',
    guard: developerGuard,
    body: startTryBody,
    answers: { 201: { description: 'started', schema: startedTrySchema } },
    refusals: {
      ...BODY_REFUSALS,
      429: 'too many tries in the last hour (see retry-after)',
      ...UNAVAILABLE,
    },
    handle: async ({ caller: developer, body }, deps) => {
      const request: TryRequest = await body();
      if (!deps.startTry) throw unavailable(); // a deployment with a Temporal client has a starter (dashboard/main.ts)
      let started: { workflowId: string };
      try {
        started = await deps.startTry(developer, request);
      } catch (e) {
        const field = (e as { field?: unknown }).field;
        if (typeof field === 'string') throw new RequestError(400, (e as Error).message, field);
        limited(e);
      }
      const base = deps.baseUrl().replace(/\/+$/, '');
      return reply(201, {
        workflowId: started.workflowId,
        url: workflowUrl(deps, started.workflowId),
        resultUrl: `${base}/api/try/${encodeURIComponent(started.workflowId)}`,
      });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/try/{id}',
    summary: "One of the developer's tries: running, or its boot (status, message, test results) and console",
    guard: developerGuard,
    params: z.strictObject({
      id: z
        .string()
        .regex(TRY_ID, 'not a try id (try:<developer>:<12 hex digits>)')
        .meta({
          description: "the run's workflow id, as POST /api/try answered it",
          examples: ['try:alice@example.org:0123456789ab'],
        }),
    }),
    answers: { 200: { description: 'OK', schema: tryRunSchema } },
    refusals: {
      400: 'not a try id',
      404: 'no such try of this developer',
      ...UNAVAILABLE,
    },
    handle: async ({ caller: developer, params: { id } }, deps) => {
      if (!(await tryAdmin(deps.sql).owns(developer, id))) throw new RequestError(404, 'no such try of yours', 'id');
      if (!deps.client) throw unavailable();
      const handle = deps.client.workflow.getHandle(id);
      const url = workflowUrl(deps, id);
      let status: WorkflowExecutionStatusName;
      try {
        status = (await handle.describe()).status.name;
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new RequestError(404, 'the run is gone from Temporal', 'id');
        throw e;
      }
      if (status !== 'COMPLETED') return reply(200, { workflowId: id, status: runStatus(status), url });
      const result = (await handle.result()) as TryResult;
      let console = '';
      if (result.boot.log) {
        const log = await deps.store.get(result.boot.log.key).catch(() => Buffer.alloc(0));
        console = log.subarray(Math.max(0, log.length - CONSOLE_TAIL)).toString('utf8');
      }
      return reply(200, { workflowId: id, status: 'completed' as const, url, result, console });
    },
  }),
];
