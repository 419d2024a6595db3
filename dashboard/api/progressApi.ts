import { z } from 'zod';
import { progressQuery, runningPipelines } from '../data/progress';
import { apiRoute, READ_REFUSALS, reply, type ApiRoute } from './route';

const int = z.number().int();
const tally = z.object({ done: int, total: int });

const runningRevisionSchema = z
  .strictObject({
    id: int.nullable(),
    tree: z.string(),
    branch: z.string(),
    sha: z.string(),
    describe: z.string(),
    workflowId: z.string(),
    startedAt: z.string(),
    progress: z
      .object({
        builds: tally.extend({ failed: int }),
        boots: tally.extend({ labs: z.record(z.string(), tally) }),
        etaSeconds: int.nullable(),
      })
      .nullable()
      .describe(
        'null when the run has no plan to count against (started by older code), is resolving, or the dashboard has no Temporal connection (`text` says which)',
      ),
    text: z.string().describe('the progress in words, as the Temporal Web UI shows it'),
  })
  .meta({ id: 'RunningRevision' });

const runningBisectionSchema = z
  .strictObject({
    id: int.nullable(),
    tree: z.string(),
    config: z.string(),
    platform: z.string(),
    lab: z.string().nullable(),
    workflowId: z.string(),
    startedAt: z.string(),
    progress: z
      .object({
        phase: z.enum(['endpoints', 'search', 'checks', 'report', 'done']),
        round: int,
        remaining: int.nullable(),
        tested: int,
        parallel: int,
        roundsLeft: int.nullable(),
        startedAt: z.string(),
      })
      .nullable()
      .describe("the bisection's answer to its bisectProgress query; null when its worker cannot answer"),
    etaSeconds: int.nullable(),
    text: z.string(),
  })
  .meta({ id: 'RunningBisection' });

/** GET /api/progress: the running revisions and bisections with their progress (what `bootfarm status` prints). */
export const progressRoutes: ApiRoute[] = [
  apiRoute({
    method: 'GET',
    path: '/api/progress',
    summary: 'The running revisions and bisections with their progress (what `bootfarm status` prints)',
    query: progressQuery,
    answers: {
      200: {
        description: 'OK',
        schema: z.strictObject({
          revisions: z.array(runningRevisionSchema),
          bisections: z.array(runningBisectionSchema),
        }),
      },
    },
    refusals: READ_REFUSALS,
    handle: async ({ query }, deps) => reply(200, await runningPipelines(deps.sql, deps.client, query.tree)),
  }),
];
