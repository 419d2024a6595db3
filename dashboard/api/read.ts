import { z } from 'zod';
import { notFound } from '../http';
import { idParam } from '../validate';
import { branchOverview, branchStatusSchema, getRevision, listRevisions, revisionFilters } from '../data/revisions';
import { buildFilters, buildsOf, getBuild, listBuilds } from '../data/builds';
import { bootFilters, bootsOf, bootsOfBisection, bootsOfBuild, getBoot, listBoots } from '../data/boots';
import { getRegression, listRegressions, regressionFilters, regressionHistory } from '../data/regressions';
import { flakinessFilters, listFlakiness } from '../data/flakiness';
import { bisectionFilters, getBisection, listBisections } from '../data/bisections';
import { listReports, reportFilters } from '../data/reports';
import { listLabs, labStatusSchema } from '../data/labs';
import { platformCoverage, socFamilySchema } from '../data/platforms';
import { dailyCounts, dailyCountsSchema } from '../data/stats';
import {
  bisectionSchema,
  flakinessSchema,
  regressionEventSchema,
  regressionSchema,
  reportSchema,
  revisionSchema,
} from '../data/rows';
import { bootSchema, buildSchema } from '../../plumbing/db/rows';
import { listOutbox, outboxEntrySchema, outboxMessageSchema, readOutboxMessage } from '../outbox';
import { kcidbSchema, toKcidb } from '../kcidb';
import { testsOfBoots } from '../data/testResults';
import { chartQuery } from '../pages/fleet';
import { apiRoute, ITEM_REFUSALS, itemsOf, READ_REFUSALS, reply, type ApiRoute } from './route';

const byId = z.strictObject({ id: idParam });
const pageOf = <S extends z.ZodType>(item: S) =>
  z.strictObject({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('pass it back as `cursor` for the next page; null on the last page'),
  });
const ok = <S extends z.ZodType>(schema: S) => ({ 200: { description: 'OK', schema } });
const found = <T>(body: T) => reply(200, body);

/** Read endpoints: the same data the pages show, as JSON. */
export const readRoutes: ApiRoute[] = [
  apiRoute({
    method: 'GET',
    path: '/api/trees',
    summary: 'Trees and branches with the status of their latest revision',
    answers: ok(itemsOf(branchStatusSchema)),
    refusals: READ_REFUSALS,
    handle: async (_, { sql }) => found({ items: await branchOverview(sql) }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/revisions',
    summary: 'Revisions (KCIDB checkouts)',
    query: revisionFilters,
    answers: ok(pageOf(revisionSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found(await listRevisions(sql, query)),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/revisions/{id}',
    summary: 'A revision with its builds and boots',
    params: byId,
    answers: ok(z.strictObject({ revision: revisionSchema, builds: z.array(buildSchema), boots: z.array(bootSchema) })),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, { sql }) => {
      const revision = await getRevision(sql, params.id);
      if (!revision) throw notFound('revision', 'id');
      const [builds, boots] = await Promise.all([
        buildsOf(sql, revision.tree, revision.sha),
        bootsOf(sql, revision.tree, revision.sha),
      ]);
      return found({ revision, builds, boots });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/revisions/{id}/kcidb',
    summary: 'The revision as KCIDB I/O data (schema v4)',
    params: byId,
    answers: ok(kcidbSchema),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, deps) => {
      const { sql } = deps;
      const revision = await getRevision(sql, params.id);
      if (!revision) throw notFound('revision', 'id');
      const [builds, boots, [tree]] = await Promise.all([
        buildsOf(sql, revision.tree, revision.sha),
        bootsOf(sql, revision.tree, revision.sha),
        sql<{ url: string }[]>`select url from trees where name = ${revision.tree}`,
      ]);
      const tests = await testsOfBoots(
        sql,
        boots.map((b) => b.id),
      );
      return found(toKcidb(revision, builds, boots, { baseUrl: deps.baseUrl(), treeUrl: tree?.url, tests }));
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/builds',
    summary: 'Builds',
    query: buildFilters,
    answers: ok(pageOf(buildSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found(await listBuilds(sql, query)),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/builds/{id}',
    summary: 'A build and its boots',
    params: byId,
    answers: ok(z.strictObject({ build: buildSchema, boots: z.array(bootSchema) })),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, { sql }) => {
      const build = await getBuild(sql, params.id);
      if (!build) throw notFound('build', 'id');
      return found({ build, boots: await bootsOfBuild(sql, build.id) });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/boots',
    summary: 'Boots',
    query: bootFilters,
    answers: ok(pageOf(bootSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found(await listBoots(sql, query)),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/boots/{id}',
    summary: 'A boot',
    params: byId,
    answers: ok(bootSchema),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, { sql }) => {
      const boot = await getBoot(sql, params.id);
      if (!boot) throw notFound('boot', 'id');
      return found(boot);
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/regressions',
    summary: 'Regressions',
    query: regressionFilters,
    answers: ok(pageOf(regressionSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found(await listRegressions(sql, query)),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/regressions/{id}',
    summary: 'A regression with its history (failed, fixed, failed again)',
    params: byId,
    answers: ok(regressionSchema.extend({ history: z.array(regressionEventSchema) })),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, { sql }) => {
      const regression = await getRegression(sql, params.id);
      if (!regression) throw notFound('regression', 'id');
      return found({ ...regression, history: await regressionHistory(sql, regression.id) });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/bisections',
    summary: 'Bisections',
    query: bisectionFilters,
    answers: ok(pageOf(bisectionSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found(await listBisections(sql, query)),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/bisections/{id}',
    summary: 'A bisection with its steps, verdict and boots',
    params: byId,
    answers: ok(bisectionSchema.extend({ boots: z.array(bootSchema).describe('every boot the bisection made') })),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, { sql }) => {
      const bisection = await getBisection(sql, params.id);
      if (!bisection) throw notFound('bisection', 'id');
      return found({ ...bisection, boots: await bootsOfBisection(sql, bisection.workflowId) });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/api/labs',
    summary: 'Labs: health, capacity, queued and running boots, last result',
    answers: ok(itemsOf(labStatusSchema)),
    refusals: READ_REFUSALS,
    handle: async (_, { sql }) => found({ items: await listLabs(sql) }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/platforms',
    summary: 'Platform coverage by SoC family (boots of the last 30 days)',
    answers: ok(itemsOf(socFamilySchema)),
    refusals: READ_REFUSALS,
    handle: async (_, { sql }) => found({ items: await platformCoverage(sql, 30) }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/flakiness',
    summary:
      'Flakiness per (build config, platform, lab), flakiest first: a flake is a boot whose verdict differs from ' +
      "its kernel's latest verdict in the same lab; the rate is flakes / verdict boots over the series' last 20 kernels",
    query: flakinessFilters,
    answers: ok(itemsOf(flakinessSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found({ items: await listFlakiness(sql, query) }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/stats/daily',
    summary: 'Builds and boots per UTC day and status',
    query: chartQuery,
    answers: ok(itemsOf(dailyCountsSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found({ items: await dailyCounts(sql, query.days ?? 30) }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/reports',
    summary: 'Report emails sent (or being sent)',
    query: reportFilters,
    answers: ok(pageOf(reportSchema)),
    refusals: READ_REFUSALS,
    handle: async ({ query }, { sql }) => found(await listReports(sql, query)),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/outbox',
    summary: 'Messages in the embedded outbox, newest first',
    answers: ok(itemsOf(outboxEntrySchema)),
    refusals: READ_REFUSALS,
    handle: async (_, deps) => found({ items: deps.outboxDir ? await listOutbox(deps.outboxDir) : [] }),
  }),
  apiRoute({
    method: 'GET',
    path: '/api/outbox/{name}',
    summary: 'One outbox message: headers and its text/plain part',
    params: z.strictObject({ name: z.string().describe('the message file, e.g. 20240101-abc.eml') }),
    answers: ok(outboxMessageSchema),
    refusals: ITEM_REFUSALS,
    handle: async ({ params }, deps) => {
      if (!deps.outboxDir) throw notFound('message', 'name');
      return found(await readOutboxMessage(deps.outboxDir, params.name));
    },
  }),
];
