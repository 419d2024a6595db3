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
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { TRY_FILE_ROLES, type TryFileRole, type TryRequest, type TryResult } from '../../domain/tryRun';
import { RateLimitedError, tryAdmin } from '../../plumbing/db/tryAdmin';
import { assertKey } from '../../plumbing/store/types';
import type { Router } from '../router';
import type { Deps } from '../deps';
import { bearerToken, readJson, RequestError, sendJson, type Ctx } from '../http';
import { nameParam, parseBody, parseQuery } from '../validate';
import { workflowUrl } from '../pages/layout';

export const tryUploadQuery = z.strictObject({ role: z.enum(TRY_FILE_ROLES as [TryFileRole, ...TryFileRole[]]) });

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

async function developerOf(deps: Deps, ctx: Ctx): Promise<string> {
  const token = bearerToken(ctx.req);
  if (!token)
    throw unauthorized('a developer token is required: Authorization: Bearer <token> (`bootfarm try token NAME`)');
  const developer = token.length <= 512 ? await tryAdmin(deps.sql).developerOf(token) : undefined;
  if (!developer) throw unauthorized('invalid developer token');
  return developer;
}

function limited(e: unknown): never {
  if (e instanceof RateLimitedError)
    throw new RequestError(429, e.message, 'developer', { 'retry-after': String(e.retryAfterS) });
  throw e;
}

/** The request body, at most `limit` bytes: 413 (and nothing kept) beyond. */
async function readUpload(req: IncomingMessage, limit: number): Promise<Buffer> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/octet-stream') {
    req.resume();
    throw new RequestError(
      415,
      'the upload must be the file itself (content-type: application/octet-stream)',
      'content-type',
    );
  }
  const tooLarge = () => new RequestError(413, `the upload is larger than ${limit} bytes (try.maxUploadMb)`, 'body');
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  if (!size) throw new RequestError(400, 'the upload is empty', 'body');
  return Buffer.concat(chunks);
}

export function registerTryApi(router: Router, deps: Deps): void {
  const limits = deps.tryLimits ?? { maxUploadMb: 64, perHour: 10, uploadsPerHour: 30 };

  router.post('/api/try/uploads', async (ctx) => {
    const developer = await developerOf(deps, ctx);
    const { role } = parseQuery(tryUploadQuery, ctx.query);
    await tryAdmin(deps.sql).canUpload(developer, limits.uploadsPerHour).catch(limited);
    const data = await readUpload(ctx.req, limits.maxUploadMb * 1024 * 1024);
    const key = assertKey(`try/${developer}/${randomBytes(8).toString('hex')}/${role}`);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const ref = await deps.store.put(key, data, { contentType: 'application/octet-stream' });
    await tryAdmin(deps.sql).recordUpload(developer, { key, role, size: ref.size, sha256 });
    sendJson(ctx.res, 201, { key, role, size: ref.size, sha256 });
  });

  router.post('/api/try', async (ctx) => {
    const developer = await developerOf(deps, ctx);
    const body: TryRequest = parseBody(startTryBody, await readJson(ctx.req));
    if (!deps.startTry || !deps.client)
      throw new RequestError(501, '`bootfarm try` is not available in this deployment (no Temporal client)');
    let started: { workflowId: string };
    try {
      started = await deps.startTry(developer, body);
    } catch (e) {
      const field = (e as { field?: unknown }).field;
      if (typeof field === 'string') throw new RequestError(400, (e as Error).message, field);
      limited(e);
    }
    const base = deps.baseUrl().replace(/\/+$/, '');
    sendJson(ctx.res, 201, {
      workflowId: started.workflowId,
      url: workflowUrl(deps, started.workflowId),
      resultUrl: `${base}/api/try/${encodeURIComponent(started.workflowId)}`,
    });
  });

  router.get('/api/try/{id}', async (ctx) => {
    const developer = await developerOf(deps, ctx);
    const id = ctx.params.id;
    if (!TRY_ID.test(id)) throw new RequestError(400, 'not a try id (try:<developer>:<12 hex digits>)', 'id');
    if (!(await tryAdmin(deps.sql).owns(developer, id))) throw new RequestError(404, 'no such try of yours', 'id');
    if (!deps.client)
      throw new RequestError(501, '`bootfarm try` is not available in this deployment (no Temporal client)');
    const handle = deps.client.workflow.getHandle(id);
    const url = workflowUrl(deps, id);
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new RequestError(404, 'the run is gone from Temporal', 'id');
      throw e;
    }
    if (status === 'RUNNING') return sendJson(ctx.res, 200, { workflowId: id, status: 'running', url });
    if (status !== 'COMPLETED') return sendJson(ctx.res, 200, { workflowId: id, status: status.toLowerCase(), url });
    const result = (await handle.result()) as TryResult;
    let console = '';
    if (result.boot.log) {
      const log = await deps.store.get(result.boot.log.key).catch(() => Buffer.alloc(0));
      console = log.subarray(Math.max(0, log.length - CONSOLE_TAIL)).toString('utf8');
    }
    sendJson(ctx.res, 200, { workflowId: id, status: 'completed', url, result, console });
  });
}
