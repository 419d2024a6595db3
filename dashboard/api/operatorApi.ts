import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  LabWorkerConflictError,
  UnknownPlatformError,
  labWorkerStatusSchema,
  type LabWorkerControl,
  type LabWorkerStatus,
} from '../../domain/labWorker';
import type { Deps, StartedWorkflow } from '../deps';
import { bearerToken, RequestError, type Ctx } from '../http';
import { branchParam, idParam, nameParam, shaParam } from '../validate';
import { apiRoute, BODY_REFUSALS, READ_REFUSALS, reply, type ApiRoute, type Guard, type Refusals } from './route';
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
async function requireAdmin(ctx: Ctx, deps: Deps): Promise<void> {
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

const adminGuard: Guard<void> = {
  scheme: 'adminToken',
  description: 'the dashboard admin token (dashboard.adminToken)',
  refusals: {
    401: 'missing or wrong admin token',
    403: 'operator endpoints disabled (no admin token configured)',
  },
  check: requireAdmin,
};

const startedSchema = z.strictObject({
  workflowId: z.string(),
  runId: z.string().optional(),
  started: z.boolean().optional().describe('false when a run with this id already existed'),
  url: z.string().describe("the workflow in Temporal's web UI"),
});

const UNAVAILABLE: Refusals = { 501: 'this deployment cannot do that' };

/**
 * A lab whose worker runs in this process: 400 for a malformed name, 404 for
 * a lab nobody knows, 409 for an api lab (it has no worker anywhere) and for
 * a lab whose worker is a process of its own (a deployment's lab host).
 */
async function inProcessLab(deps: Deps, lab: string): Promise<{ lab: string; control: LabWorkerControl }> {
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

const LAB_WORKER_REFUSALS: Refusals = {
  400: 'invalid lab name or body; `field` names it',
  404: 'no such lab (or platform of the lab)',
  409: 'the worker is not in this process (an api lab, or a lab worker process of its own), or a start while it still drains',
};

const labWorkerAnswers = {
  200: { description: 'running, or stopped (also when it already was)', schema: labWorkerStatusSchema },
  202: {
    description: 'draining: stopped taking boots, still finishing the ones it holds',
    schema: labWorkerStatusSchema,
  },
};

/** Operator endpoints (admin token): trigger a revision, start or cancel a bisection, stop or start a lab worker. */
export const operatorRoutes: ApiRoute[] = [
  apiRoute({
    method: 'POST',
    path: '/api/revisions',
    summary: 'Trigger a revision of tree/branch (its head, or a given commit)',
    guard: adminGuard,
    body: triggerRevisionBody,
    answers: {
      202: { description: 'started', schema: startedSchema },
      200: { description: 'already running or done (same workflow id)', schema: startedSchema },
    },
    refusals: { ...BODY_REFUSALS, ...UNAVAILABLE },
    handle: async (req, deps) => {
      const body = await req.body();
      const start = deps.startRevision;
      if (!start) throw unavailable('triggering a revision');
      await knownTree(deps, body.tree);
      const r = await started(deps, () => start(body.tree, body.branch, body.commit, body.force));
      return r.started === false ? reply(200, r) : reply(202, r);
    },
  }),
  apiRoute({
    method: 'POST',
    path: '/api/bisections',
    summary: 'Start a bisection between a good and a bad commit',
    guard: adminGuard,
    body: startBisectionBody,
    answers: {
      202: { description: 'started', schema: startedSchema },
      200: { description: 'already running (same workflow id)', schema: startedSchema },
    },
    refusals: { ...BODY_REFUSALS, ...UNAVAILABLE },
    handle: async (req, deps) => {
      const body = await req.body();
      const start = deps.startBisection;
      if (!start) throw unavailable('starting a bisection');
      await knownTree(deps, body.tree);
      if (body.good === body.bad) throw new RequestError(400, 'good and bad are the same commit', 'bad');
      const r = await started(deps, () => start(body));
      return r.started === false ? reply(200, r) : reply(202, r);
    },
  }),
  apiRoute({
    method: 'POST',
    path: '/api/bisections/{id}/cancel',
    summary: 'Cancel a running bisection',
    guard: adminGuard,
    params: z.strictObject({ id: idParam }),
    answers: {
      202: {
        description: 'cancel requested',
        schema: z.strictObject({
          id: z.number().int(),
          workflowId: z.string(),
          cancelRequested: z.literal(true),
          url: z.string(),
        }),
      },
    },
    refusals: {
      ...READ_REFUSALS,
      404: 'no such bisection',
      409: 'the bisection is not running',
      ...UNAVAILABLE,
    },
    handle: async ({ params: { id } }, deps) => {
      const cancel = deps.cancelBisection;
      if (!cancel) throw unavailable('cancelling a bisection');
      const bisection = await getBisection(deps.sql, id);
      if (!bisection) throw new RequestError(404, 'bisection not found', 'id');
      if (bisection.status !== 'running')
        throw new RequestError(409, `bisection #${id} is ${bisection.status}, not running`, 'id');
      await cancel(bisection.workflowId);
      return reply(202, {
        id,
        workflowId: bisection.workflowId,
        cancelRequested: true as const,
        url: workflowUrl(deps, bisection.workflowId),
      });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/labs/{lab}/worker',
    summary: "The lab's worker in the embedded stack (`bootfarm up`): running, draining or stopped",
    params: z.strictObject({ lab: nameParam.meta({ examples: ['local'] }) }),
    answers: { 200: { description: 'OK', schema: labWorkerStatusSchema } },
    refusals: LAB_WORKER_REFUSALS,
    handle: async ({ params }, deps) => {
      const { lab, control } = await inProcessLab(deps, params.lab);
      return reply(200, control.status(lab) as LabWorkerStatus);
    },
  }),
  apiRoute({
    method: 'POST',
    path: '/api/labs/{lab}/worker',
    summary:
      "Stop (`running: false`) or start (`running: true`) the lab's worker in the embedded stack. A stopped worker " +
      'drains: its running boots finish, it takes no new ones; boots still queued for the lab become `offline` after ' +
      "its scheduleToStartTimeout, and new boots are recorded `offline` at dispatch once the lab's offlineGrace has passed.",
    guard: adminGuard,
    params: z.strictObject({ lab: nameParam.meta({ examples: ['local'] }) }),
    body: labWorkerBody,
    answers: labWorkerAnswers,
    refusals: { ...BODY_REFUSALS, ...LAB_WORKER_REFUSALS },
    handle: async (req, deps) => {
      const body = await req.body();
      const { lab, control } = await inProcessLab(deps, req.params.lab);
      try {
        const status = body.running ? await control.start(lab, body.platform) : await control.stop(lab, body.platform);
        // 202 while a stopped worker still finishes its boots: the request is taken, not yet done.
        return status.state === 'draining' ? reply(202, status) : reply(200, status);
      } catch (e) {
        if (e instanceof LabWorkerConflictError) throw new RequestError(409, e.message, 'running');
        if (e instanceof UnknownPlatformError) throw new RequestError(404, e.message, 'platform');
        throw e;
      }
    },
  }),
];
