import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  LabWorkerConflictError,
  UnknownPlatformError,
  type LabWorkerControl,
  type LabWorkerStatus,
} from '../../domain/labWorker';
import type { Router } from '../router';
import type { Deps, StartedWorkflow } from '../deps';
import { bearerToken, readJson, RequestError, sendJson, type Ctx } from '../http';
import { branchParam, nameParam, parseBody, parseId, parseQuery, shaParam } from '../validate';
import { getBisection } from '../data/bisections';
import { workflowUrl } from '../pages/layout';

export const triggerRevisionBody = z.strictObject({
  tree: nameParam,
  branch: branchParam,
  commit: shaParam.optional(),
  /** run a revision that was already tested again */
  force: z.boolean().optional(),
});

export const startBisectionBody = z.strictObject({
  tree: nameParam,
  branch: branchParam.optional(),
  good: shaParam,
  bad: shaParam,
  config: nameParam,
  platform: nameParam,
  lab: nameParam.optional(),
});

/** `running: false` drains the lab's in-process workers (or one platform's), `running: true` runs them again. */
export const labWorkerBody = z.strictObject({ running: z.boolean(), platform: nameParam.optional() });

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** 401 without the admin token, 403 when this dashboard has none configured. */
function requireAdmin(deps: Deps, ctx: Ctx): void {
  if (!deps.adminToken)
    throw new RequestError(
      403,
      'operator endpoints are disabled: no admin token is configured (dashboard.adminToken)',
      'authorization',
    );
  const token = bearerToken(ctx.req);
  // Compare digests: constant time, whatever the lengths.
  if (!token || !timingSafeEqual(digest(token), digest(deps.adminToken)))
    throw new RequestError(401, 'the admin token is required: Authorization: Bearer <token>', 'authorization', {
      'www-authenticate': 'Bearer realm="bootfarm-admin"',
    });
}

function unavailable(what: string): RequestError {
  return new RequestError(501, `${what} is not available in this deployment`);
}

/** A start that found its workflow id already running is the idempotent outcome, not an error. */
async function started(deps: Deps, start: () => Promise<StartedWorkflow>): Promise<StartedWorkflow & { url: string }> {
  let r: StartedWorkflow;
  try {
    r = await start();
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    r = { workflowId: e.workflowId, started: false };
  }
  return { ...r, url: workflowUrl(deps, r.workflowId) };
}

async function knownTree(deps: Deps, tree: string): Promise<void> {
  const [row] = await deps.sql`select 1 from trees where name = ${tree}`;
  if (!row) throw new RequestError(400, `unknown tree ${JSON.stringify(tree)}`, 'tree');
}

const noQuery = z.strictObject({});

/**
 * A lab whose worker runs in this process: 400 for a malformed name, 404 for
 * a lab nobody knows, 409 for an api lab (it has no worker anywhere) and for
 * a lab whose worker is a process of its own (a deployment's lab host).
 */
async function inProcessLab(deps: Deps, ctx: Ctx): Promise<{ lab: string; control: LabWorkerControl }> {
  const parsed = nameParam.safeParse(ctx.params.lab);
  if (!parsed.success) throw new RequestError(400, `lab: ${parsed.error.issues[0].message}`, 'lab');
  const lab = parsed.data;
  const control = deps.labWorkers;
  if (control?.status(lab)) return { lab, control };
  const [row] = await deps.sql<{ adapter: string }[]>`select adapter from labs where name = ${lab}`;
  if (!row) throw new RequestError(404, `no lab ${JSON.stringify(lab)}`, 'lab');
  throw new RequestError(
    409,
    row.adapter === 'api'
      ? `lab ${lab} is an api lab: it runs no worker (its boots wait for its posts)`
      : `lab ${lab}'s worker does not run inside this process (only \`bootfarm up\` runs lab workers in its own): ` +
        `stop its \`bootfarm worker lab --lab ${lab}\` process instead (SIGTERM drains it)`,
    'lab',
  );
}

function sendLabWorker(ctx: Ctx, status: LabWorkerStatus): void {
  // 202 while a stopped worker still finishes its boots: the request is taken, not yet done.
  sendJson(ctx.res, status.state === 'draining' ? 202 : 200, status);
}

/** Operator endpoints (admin token): trigger a revision, start or cancel a bisection, stop or start a lab worker. */
export function registerOperatorApi(router: Router, deps: Deps): void {
  router.post('/api/revisions', async (ctx) => {
    requireAdmin(deps, ctx);
    parseQuery(noQuery, ctx.query);
    const body = parseBody(triggerRevisionBody, await readJson(ctx.req));
    const start = deps.startRevision;
    if (!start) throw unavailable('triggering a revision');
    await knownTree(deps, body.tree);
    const r = await started(deps, () => start(body.tree, body.branch, body.commit, body.force));
    sendJson(ctx.res, r.started === false ? 200 : 202, r);
  });

  router.post('/api/bisections', async (ctx) => {
    requireAdmin(deps, ctx);
    parseQuery(noQuery, ctx.query);
    const body = parseBody(startBisectionBody, await readJson(ctx.req));
    const start = deps.startBisection;
    if (!start) throw unavailable('starting a bisection');
    await knownTree(deps, body.tree);
    if (body.good === body.bad) throw new RequestError(400, 'good and bad are the same commit', 'bad');
    const r = await started(deps, () => start(body));
    sendJson(ctx.res, r.started === false ? 200 : 202, r);
  });

  router.post('/api/bisections/{id}/cancel', async (ctx) => {
    requireAdmin(deps, ctx);
    parseQuery(noQuery, ctx.query);
    const id = parseId(ctx.params.id);
    const cancel = deps.cancelBisection;
    if (!cancel) throw unavailable('cancelling a bisection');
    const bisection = await getBisection(deps.sql, id);
    if (!bisection) throw new RequestError(404, 'bisection not found', 'id');
    if (bisection.status !== 'running')
      throw new RequestError(409, `bisection #${id} is ${bisection.status}, not running`, 'id');
    await cancel(bisection.workflowId);
    sendJson(ctx.res, 202, {
      id,
      workflowId: bisection.workflowId,
      cancelRequested: true,
      url: workflowUrl(deps, bisection.workflowId),
    });
  });

  router.get('/api/labs/{lab}/worker', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    const { lab, control } = await inProcessLab(deps, ctx);
    sendJson(ctx.res, 200, control.status(lab));
  });

  router.post('/api/labs/{lab}/worker', async (ctx) => {
    requireAdmin(deps, ctx);
    parseQuery(noQuery, ctx.query);
    const body = parseBody(labWorkerBody, await readJson(ctx.req));
    const { lab, control } = await inProcessLab(deps, ctx);
    try {
      sendLabWorker(
        ctx,
        body.running ? await control.start(lab, body.platform) : await control.stop(lab, body.platform),
      );
    } catch (e) {
      if (e instanceof LabWorkerConflictError) throw new RequestError(409, e.message, 'running');
      if (e instanceof UnknownPlatformError) throw new RequestError(404, e.message, 'platform');
      throw e;
    }
  });
}
