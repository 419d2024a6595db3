/**
 * The OpenAPI 3.1 document of /api, written by hand; the query and body
 * schemas are rendered from the zod schemas the handlers validate with, so
 * what is documented is what is accepted. test/dashboard/api.test.ts checks
 * that every route is documented and every documented route exists.
 */
import { z } from 'zod';
import { progressQuery } from './data/progress';
import { NAME_PATTERN } from '../domain/names';
import { revisionFilters } from './data/revisions';
import { buildFilters } from './data/builds';
import { bootFilters } from './data/boots';
import { regressionFilters } from './data/regressions';
import { bisectionFilters } from './data/bisections';
import { reportFilters } from './data/reports';
import { flakinessFilters } from './data/flakiness';
import { chartQuery } from './pages/fleet';
import { labJobsQuery, labResultBody } from './api/labApi';
import { labWorkerBody, startBisectionBody, triggerRevisionBody } from './api/operatorApi';
import { startTryBody, tryUploadQuery } from './api/tryApi';

type Json = Record<string, unknown>;

const DESCRIPTIONS: Record<string, string> = {
  tree: 'tree name',
  branch: 'branch name',
  sha: 'commit sha or a prefix of at least 7 hex digits',
  config: 'build config name',
  arch: 'architecture',
  platform: 'platform name',
  lab: 'lab name',
  status: 'status',
  result: 'result of a finished revision',
  state: 'regression state',
  kind: 'kind',
  active: 'true: new and still-failing regressions; false: fixed ones',
  cursor: 'opaque: the nextCursor of the previous page',
  limit: 'page size (1 to 200, default 50)',
  days: 'number of days (1 to 365, default 30)',
};

function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

function queryParams(schema: z.ZodType): Json[] {
  const properties = (jsonSchema(schema).properties ?? {}) as Record<string, Json>;
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    description: DESCRIPTIONS[name] ?? name,
    schema:
      name === 'limit'
        ? { type: 'integer', minimum: 1, maximum: 200, default: 50 }
        : name === 'days'
          ? { type: 'integer', minimum: 1, maximum: 365, default: 30 }
          : s,
  }));
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string, extra: Json = {}) => ({ type: [type, 'null'], ...extra });
const str = { type: 'string' };
const int = { type: 'integer' };
const time = { type: 'string', format: 'date-time' };
const any = {};

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
};
const labParam = {
  name: 'lab',
  in: 'path',
  required: true,
  example: 'local',
  schema: { type: 'string', pattern: NAME_PATTERN.source },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});
const ok = (schema: Json, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const pageOf = (item: string) => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: nullable('string') },
});

const READ_ERRORS = { '400': errorResponse('invalid parameter; `field` names it') };
const ITEM_ERRORS = { ...READ_ERRORS, '404': errorResponse('no such row') };
const BODY_ERRORS = {
  '400': errorResponse('invalid body; `field` names the offending field'),
  '413': errorResponse('body too large'),
  '415': errorResponse('the body is not application/json'),
};
const ADMIN_AUTH_ERRORS = {
  '401': errorResponse('missing or wrong admin token'),
  '403': errorResponse('operator endpoints disabled (no admin token configured)'),
};
const ADMIN_ERRORS = { ...ADMIN_AUTH_ERRORS, '501': errorResponse('this deployment cannot do that') };

const LAB_WORKER_ERRORS = {
  '400': errorResponse('invalid lab name or body; `field` names it'),
  '404': errorResponse('no such lab'),
  '409': errorResponse('the worker is not in this process: an api lab, or a lab worker process of its own'),
};

function list(summary: string, filters: z.ZodType, item: string): Json {
  return { get: { summary, parameters: queryParams(filters), responses: { '200': ok(pageOf(item)), ...READ_ERRORS } } };
}

function one(summary: string, schema: Json): Json {
  return { get: { summary, parameters: [idParam], responses: { '200': ok(schema), ...ITEM_ERRORS } } };
}

const body = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: jsonSchema(schema) } },
});

const started = {
  type: 'object',
  required: ['workflowId', 'url'],
  properties: { workflowId: str, runId: str, started: { type: 'boolean' }, url: str },
};

const counts = { type: 'object', additionalProperties: int };

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Bootfarm API',
    version: '1.0.0',
    description:
      'Builds, boots, regressions and bisections of monitored kernel trees. Lists are newest first and paginated by an opaque cursor. ' +
      'Errors are JSON `{error, field}`. Lab endpoints take a lab token, operator endpoints the admin token, both as `Authorization: Bearer <token>`.',
  },
  paths: {
    '/api/openapi.json': { get: { summary: 'This document', responses: { '200': ok({ type: 'object' }) } } },
    '/api/trees': {
      get: {
        summary: 'Trees and branches with the status of their latest revision',
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('BranchStatus') } },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/revisions': {
      ...list('Revisions (KCIDB checkouts)', revisionFilters, 'Revision'),
      post: {
        summary: 'Trigger a revision of tree/branch (its head, or a given commit)',
        security: [{ adminToken: [] }],
        requestBody: body(triggerRevisionBody),
        responses: {
          '202': ok(started, 'started'),
          '200': ok(started, 'already running or done (same workflow id)'),
          ...BODY_ERRORS,
          ...ADMIN_ERRORS,
        },
      },
    },
    '/api/revisions/{id}': one('A revision with its builds and boots', {
      type: 'object',
      required: ['revision', 'builds', 'boots'],
      properties: {
        revision: ref('Revision'),
        builds: { type: 'array', items: ref('Build') },
        boots: { type: 'array', items: ref('Boot') },
      },
    }),
    '/api/revisions/{id}/kcidb': one('The revision as KCIDB I/O data (schema v4)', ref('Kcidb')),
    '/api/builds': list('Builds', buildFilters, 'Build'),
    '/api/builds/{id}': one('A build and its boots', {
      type: 'object',
      required: ['build', 'boots'],
      properties: { build: ref('Build'), boots: { type: 'array', items: ref('Boot') } },
    }),
    '/api/boots': list('Boots', bootFilters, 'Boot'),
    '/api/boots/{id}': one('A boot', ref('Boot')),
    '/api/regressions': list('Regressions', regressionFilters, 'Regression'),
    '/api/regressions/{id}': one('A regression with its history (failed, fixed, failed again)', {
      allOf: [
        ref('Regression'),
        {
          type: 'object',
          required: ['history'],
          properties: {
            history: {
              type: 'array',
              items: {
                type: 'object',
                required: ['sha', 'event', 'at'],
                properties: {
                  sha: str,
                  event: { type: 'string', enum: ['failed', 'fixed', 'failed-again'] },
                  at: time,
                },
              },
            },
          },
        },
      ],
    }),
    '/api/bisections': {
      ...list('Bisections', bisectionFilters, 'Bisection'),
      post: {
        summary: 'Start a bisection between a good and a bad commit',
        security: [{ adminToken: [] }],
        requestBody: body(startBisectionBody),
        responses: {
          '202': ok(started, 'started'),
          '200': ok(started, 'already running (same workflow id)'),
          ...BODY_ERRORS,
          ...ADMIN_ERRORS,
        },
      },
    },
    '/api/bisections/{id}': one('A bisection with its steps, verdict and boots', {
      allOf: [
        ref('Bisection'),
        {
          type: 'object',
          required: ['boots'],
          properties: { boots: { type: 'array', items: ref('Boot'), description: 'every boot the bisection made' } },
        },
      ],
    }),
    '/api/bisections/{id}/cancel': {
      post: {
        summary: 'Cancel a running bisection',
        security: [{ adminToken: [] }],
        parameters: [idParam],
        responses: {
          '202': ok(
            {
              type: 'object',
              required: ['id', 'workflowId'],
              properties: { id: int, workflowId: str, cancelRequested: { type: 'boolean' }, url: str },
            },
            'cancel requested',
          ),
          ...READ_ERRORS,
          '404': errorResponse('no such bisection'),
          '409': errorResponse('the bisection is not running'),
          ...ADMIN_ERRORS,
        },
      },
    },
    '/api/progress': {
      get: {
        summary: 'The running revisions and bisections with their progress (what `bootfarm status` prints)',
        parameters: queryParams(progressQuery),
        responses: {
          '200': ok({
            type: 'object',
            required: ['revisions', 'bisections'],
            properties: {
              revisions: { type: 'array', items: ref('RunningRevision') },
              bisections: { type: 'array', items: ref('RunningBisection') },
            },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/labs': {
      get: {
        summary: 'Labs: health, capacity, queued and running boots, last result',
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('Lab') } },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/labs/{lab}/jobs': {
      get: {
        summary: "The lab's pending boots (API labs)",
        security: [{ labToken: [] }],
        parameters: [labParam, ...queryParams(labJobsQuery)],
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('LabJob') } },
          }),
          ...READ_ERRORS,
          '401': errorResponse('missing or invalid lab token'),
          '403': errorResponse("the token is another lab's"),
        },
      },
    },
    '/api/labs/{lab}/jobs/{id}/result': {
      post: {
        summary: 'Post the result of one of the lab’s boots; completes the waiting boot',
        security: [{ labToken: [] }],
        parameters: [labParam, idParam],
        requestBody: body(labResultBody),
        responses: {
          '200': ok(
            {
              type: 'object',
              required: ['id', 'status'],
              properties: { id: int, status: str, result: { type: 'object' } },
            },
            'recorded',
          ),
          ...BODY_ERRORS,
          '401': errorResponse('missing or invalid lab token'),
          '403': errorResponse("another lab's token or job"),
          '404': errorResponse('no such job'),
          '409': errorResponse('the job is not pending any more'),
          '503': errorResponse('no Temporal client configured'),
        },
      },
    },
    '/api/labs/{lab}/worker': {
      get: {
        summary: "The lab's worker in the embedded stack (`bootfarm up`): running, draining or stopped",
        parameters: [labParam],
        responses: {
          '200': ok(ref('LabWorker')),
          ...LAB_WORKER_ERRORS,
        },
      },
      post: {
        summary:
          "Stop (`running: false`) or start (`running: true`) the lab's worker in the embedded stack. A stopped worker " +
          'drains: its running boots finish, it takes no new ones; boots still queued for the lab become `offline` after ' +
          "its scheduleToStartTimeout, and new boots are recorded `offline` at dispatch once the lab's offlineGrace has passed.",
        security: [{ adminToken: [] }],
        parameters: [labParam],
        requestBody: body(labWorkerBody),
        responses: {
          '200': ok(ref('LabWorker'), 'running, or stopped (also when it already was)'),
          '202': ok(ref('LabWorker'), 'draining: stopped taking boots, still finishing the ones it holds'),
          ...BODY_ERRORS,
          ...ADMIN_AUTH_ERRORS,
          ...LAB_WORKER_ERRORS,
          '409': errorResponse(
            'the worker is not in this process (an api lab, or a lab worker process of its own), or a start while it still drains',
          ),
        },
      },
    },
    '/api/try/uploads': {
      post: {
        summary:
          'Upload a file for `bootfarm try` (a kernel, ramdisk or dtb, at most try.maxUploadMb); returns its key. ' +
          'Rate-limited per developer (try.uploadsPerHour)',
        security: [{ developerToken: [] }],
        parameters: queryParams(tryUploadQuery).map((p) => ({ ...p, required: true })),
        requestBody: {
          required: true,
          content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
        responses: {
          '201': ok(
            {
              type: 'object',
              required: ['key', 'role', 'size', 'sha256'],
              properties: { key: str, role: str, size: int, sha256: str },
            },
            'stored',
          ),
          '400': errorResponse('invalid role, or an empty upload'),
          '401': errorResponse('missing or invalid developer token'),
          '413': errorResponse('larger than try.maxUploadMb: nothing stored'),
          '415': errorResponse('the body is not application/octet-stream'),
          '429': errorResponse('too many uploads in the last hour (see retry-after)'),
        },
      },
    },
    '/api/try': {
      post: {
        summary:
          "Boot a developer's own kernel (uploaded files, by key) on a platform, optionally with a test plan. " +
          "The kernel must be an image for the platform's arch (checked by its header: x86 bzImage or multiboot, " +
          'arm64 Image, ARM zImage), the ramdisk a cpio archive, the dtb a device tree; nothing boots otherwise. ' +
          'Rate-limited per developer (try.perHour)',
        security: [{ developerToken: [] }],
        requestBody: body(startTryBody),
        responses: {
          '201': ok(
            {
              type: 'object',
              required: ['workflowId', 'url', 'resultUrl'],
              properties: { workflowId: str, url: str, resultUrl: str },
            },
            'started',
          ),
          ...BODY_ERRORS,
          '401': errorResponse('missing or invalid developer token'),
          '429': errorResponse('too many tries in the last hour (see retry-after)'),
          '501': errorResponse('this deployment cannot start workflows'),
        },
      },
    },
    '/api/try/{id}': {
      get: {
        summary: "One of the developer's tries: running, or its boot (status, message, test results) and console",
        security: [{ developerToken: [] }],
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^try:[A-Za-z0-9._@+-]{1,100}:[0-9a-f]{12}$' },
          },
        ],
        responses: {
          '200': ok({
            type: 'object',
            required: ['workflowId', 'status', 'url'],
            properties: { workflowId: str, status: str, url: str, result: { type: 'object' }, console: str },
          }),
          '400': errorResponse('not a try id'),
          '401': errorResponse('missing or invalid developer token'),
          '404': errorResponse('no such try of this developer'),
          '501': errorResponse('this deployment cannot read workflows'),
        },
      },
    },
    '/api/platforms': {
      get: {
        summary: 'Platform coverage by SoC family (boots of the last 30 days)',
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('SocFamily') } },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/flakiness': {
      get: {
        summary:
          'Flakiness per (build config, platform, lab), flakiest first: a flake is a boot whose verdict differs from ' +
          "its kernel's latest verdict in the same lab; the rate is flakes / verdict boots over the series' last 20 kernels",
        parameters: queryParams(flakinessFilters),
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('Flakiness') } },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/stats/daily': {
      get: {
        summary: 'Builds and boots per UTC day and status',
        parameters: queryParams(chartQuery),
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['day', 'builds', 'boots'],
                  properties: { day: str, builds: counts, boots: counts },
                },
              },
            },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/reports': list('Report emails sent (or being sent)', reportFilters, 'Report'),
    '/api/outbox': {
      get: {
        summary: 'Messages in the embedded outbox, newest first',
        responses: {
          '200': ok({
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: ref('OutboxEntry') } },
          }),
          ...READ_ERRORS,
        },
      },
    },
    '/api/outbox/{name}': {
      get: {
        summary: 'One outbox message: headers and its text/plain part',
        parameters: [
          {
            name: 'name',
            in: 'path',
            required: true,
            description: 'the message file, e.g. 20240101-abc.eml',
            schema: { type: 'string' },
          },
        ],
        responses: { '200': ok(ref('OutboxMessage')), ...ITEM_ERRORS },
      },
    },
  },
  components: {
    securitySchemes: {
      labToken: { type: 'http', scheme: 'bearer', description: 'a lab token from `bootfarm lab token NAME`' },
      adminToken: { type: 'http', scheme: 'bearer', description: 'the dashboard admin token (dashboard.adminToken)' },
      developerToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'a developer token (scope try) from `bootfarm try token NAME`',
      },
    },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: str, field: str } },
      Revision: {
        type: 'object',
        required: ['id', 'tree', 'branch', 'sha', 'status', 'startedAt'],
        properties: {
          id: int,
          tree: str,
          branch: str,
          sha: str,
          describe: str,
          subject: str,
          author: str,
          authorEmail: str,
          committedAt: nullable('string'),
          status: str,
          result: nullable('string'),
          summary: any,
          message: nullable('string'),
          workflowId: nullable('string'),
          startedAt: time,
          finishedAt: nullable('string'),
        },
      },
      Build: {
        type: 'object',
        required: ['id', 'tree', 'sha', 'config', 'arch', 'status'],
        properties: {
          id: int,
          tree: str,
          sha: str,
          config: str,
          arch: str,
          defconfig: str,
          toolchain: str,
          status: str,
          warnings: int,
          errors: int,
          durationMs: nullable('integer'),
          logKey: nullable('string'),
          artifacts: { type: 'object' },
          errorLines: { type: 'array', items: str },
          message: nullable('string'),
          builder: nullable('string'),
          workflowId: nullable('string'),
          bisection: nullable('string'),
          artifactsExpiredAt: nullable('string'),
          logExpiredAt: nullable('string'),
          createdAt: time,
          finishedAt: nullable('string'),
        },
      },
      Boot: {
        type: 'object',
        required: ['id', 'buildId', 'platform', 'lab', 'status'],
        properties: {
          id: int,
          buildId: int,
          tree: str,
          sha: str,
          config: str,
          arch: str,
          platform: str,
          lab: str,
          run: int,
          status: str,
          durationMs: nullable('integer'),
          logKey: nullable('string'),
          message: nullable('string'),
          attempts: int,
          workflowId: nullable('string'),
          bisection: nullable('string'),
          logExpiredAt: nullable('string'),
          createdAt: time,
          finishedAt: nullable('string'),
        },
      },
      Regression: {
        type: 'object',
        required: ['id', 'tree', 'branch', 'kind', 'config', 'state', 'firstBadSha'],
        properties: {
          id: int,
          tree: str,
          branch: str,
          kind: str,
          config: str,
          platform: str,
          state: str,
          lastGoodSha: nullable('string'),
          firstBadSha: str,
          firstBadAt: time,
          lastBadSha: nullable('string'),
          fixedSha: nullable('string'),
          bisectionId: nullable('integer'),
          reopenedSha: nullable('string'),
          flaps: int,
          onlyInLabs: { type: 'array', items: str },
          createdAt: time,
          updatedAt: time,
        },
      },
      Flakiness: {
        type: 'object',
        required: ['config', 'platform', 'lab', 'kernels', 'boots', 'flakes', 'flakeRate', 'series'],
        properties: {
          config: str,
          platform: str,
          lab: str,
          kernels: int,
          boots: int,
          flakes: int,
          flakeRate: { type: 'number', minimum: 0, maximum: 1 },
          series: {
            type: 'array',
            items: {
              type: 'object',
              properties: { tree: str, sha: str, outcomes: { type: 'string', pattern: '^[FP]+$' } },
            },
          },
          updatedAt: time,
        },
      },
      Bisection: {
        type: 'object',
        required: ['id', 'workflowId', 'tree', 'goodSha', 'badSha', 'config', 'platform', 'status'],
        properties: {
          id: int,
          workflowId: str,
          tree: str,
          branch: nullable('string'),
          goodSha: str,
          badSha: str,
          config: str,
          platform: str,
          lab: nullable('string'),
          status: str,
          culpritSha: nullable('string'),
          verdict: any,
          steps: any,
          bisectLog: nullable('string'),
          createdAt: time,
          finishedAt: nullable('string'),
        },
      },
      Tally: { type: 'object', required: ['done', 'total'], properties: { done: int, total: int } },
      RunningRevision: {
        type: 'object',
        required: ['tree', 'branch', 'sha', 'workflowId', 'startedAt', 'progress', 'text'],
        properties: {
          id: nullable('integer'),
          tree: str,
          branch: str,
          sha: str,
          describe: str,
          workflowId: str,
          startedAt: time,
          progress: {
            description:
              'null when the run has no plan to count against (started by older code), is resolving, or the dashboard has no Temporal connection (`text` says which)',
            type: ['object', 'null'],
            properties: {
              builds: { type: 'object', properties: { done: int, total: int, failed: int } },
              boots: {
                type: 'object',
                properties: { done: int, total: int, labs: { type: 'object', additionalProperties: ref('Tally') } },
              },
              etaSeconds: nullable('integer'),
            },
          },
          text: { type: 'string', description: 'the progress in words, as the Temporal Web UI shows it' },
        },
      },
      RunningBisection: {
        type: 'object',
        required: ['workflowId', 'startedAt', 'progress', 'text'],
        properties: {
          id: nullable('integer'),
          tree: str,
          config: str,
          platform: str,
          lab: nullable('string'),
          workflowId: str,
          startedAt: time,
          progress: {
            description: "the bisection's answer to its bisectProgress query; null when its worker cannot answer",
            type: ['object', 'null'],
            properties: {
              phase: { type: 'string', enum: ['endpoints', 'search', 'verify', 'revert', 'report', 'done'] },
              round: int,
              remaining: nullable('integer'),
              tested: int,
              parallel: int,
              roundsLeft: nullable('integer'),
              startedAt: time,
            },
          },
          etaSeconds: nullable('integer'),
          text: str,
        },
      },
      Report: {
        type: 'object',
        required: ['id', 'messageId', 'kind', 'tree', 'subject', 'status'],
        properties: {
          id: int,
          messageId: str,
          kind: str,
          tree: str,
          branch: nullable('string'),
          sha: nullable('string'),
          subject: str,
          recipients: any,
          inReplyTo: nullable('string'),
          status: str,
          emlKey: nullable('string'),
          createdAt: time,
          sentAt: nullable('string'),
        },
      },
      BranchStatus: {
        type: 'object',
        required: ['tree', 'branch', 'latest'],
        properties: {
          tree: str,
          url: nullable('string'),
          branch: nullable('string'),
          latest: { oneOf: [ref('Revision'), { type: 'null' }] },
          builds: counts,
          boots: counts,
        },
      },
      Lab: {
        type: 'object',
        required: ['name', 'adapter', 'health', 'capacity'],
        properties: {
          name: str,
          adapter: str,
          health: str,
          capacity: int,
          queued: int,
          running: int,
          pendingJobs: int,
          platforms: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'capacity', 'health'],
              properties: {
                name: str,
                capacity: { ...int, description: 'boards: boots its queue lab-<lab>-<platform> takes at once' },
                health: { ...str, description: 'online | offline | unknown, as the check before dispatch found it' },
                lastSeenAt: nullable('string'),
              },
            },
          },
          lastPollAt: nullable('string'),
          lastResultAt: nullable('string'),
          lastBoot: nullable('object'),
        },
      },
      LabWorker: {
        type: 'object',
        required: ['lab', 'running', 'state', 'boots', 'since'],
        properties: {
          lab: str,
          running: { type: 'boolean' },
          state: { type: 'string', enum: ['running', 'draining', 'stopped'] },
          boots: { ...int, minimum: 0, description: 'boots its workers run now' },
          platforms: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'boards', 'boots', 'state'],
              properties: {
                name: str,
                boards: int,
                boots: { ...int, minimum: 0 },
                state: { type: 'string', enum: ['running', 'draining', 'stopped'] },
              },
            },
          },
          since: time,
          error: { ...str, description: 'why the worker ended by itself, when it did' },
        },
      },
      LabJob: {
        type: 'object',
        required: ['id', 'bootKey', 'request', 'resultUrl'],
        properties: {
          id: int,
          bootKey: str,
          platform: { ...str, description: 'the board kind the boot is for (its queue is lab-<lab>-<platform>)' },
          createdAt: time,
          request: any,
          artifacts: { type: 'object', additionalProperties: str },
          resultUrl: str,
        },
      },
      SocFamily: {
        type: 'object',
        required: ['soc', 'platforms'],
        properties: {
          soc: str,
          boots: counts,
          platforms: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: str,
                arch: str,
                soc: str,
                dtb: nullable('string'),
                bootMethod: str,
                labs: { type: 'array', items: str },
                boots: counts,
                lastBootAt: nullable('string'),
              },
            },
          },
        },
      },
      OutboxEntry: {
        type: 'object',
        required: ['name', 'subject'],
        properties: {
          name: str,
          subject: str,
          from: str,
          to: str,
          date: nullable('string'),
          messageId: str,
          size: int,
          mtime: time,
        },
      },
      OutboxMessage: {
        allOf: [
          ref('OutboxEntry'),
          { type: 'object', properties: { cc: str, inReplyTo: str, text: str, hasHtml: { type: 'boolean' } } },
        ],
      },
      Kcidb: {
        type: 'object',
        required: ['version', 'checkouts', 'builds', 'tests'],
        properties: {
          version: { type: 'object', required: ['major'], properties: { major: { const: 4 }, minor: int } },
          checkouts: { type: 'array', items: { type: 'object', required: ['id', 'origin'] } },
          builds: { type: 'array', items: { type: 'object', required: ['id', 'origin', 'checkout_id'] } },
          tests: { type: 'array', items: { type: 'object', required: ['id', 'origin', 'build_id'] } },
        },
      },
    },
  },
} as const;

/** `METHOD template` of every documented operation. */
export function documentedOperations(
  doc: { paths: Record<string, Record<string, unknown>> } = openApiDocument,
): string[] {
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
}
