import { z } from 'zod';
import type { Router } from '../router';
import type { Deps } from '../deps';
import { notFound, sendJson, type Ctx } from '../http';
import { parseId, parseQuery } from '../validate';
import { branchOverview, getRevision, listRevisions, revisionFilters } from '../data/revisions';
import { buildFilters, buildsOf, getBuild, listBuilds } from '../data/builds';
import { bootFilters, bootsOf, bootsOfBisection, bootsOfBuild, getBoot, listBoots } from '../data/boots';
import { getRegression, listRegressions, regressionFilters, regressionHistory } from '../data/regressions';
import { flakinessFilters, listFlakiness } from '../data/flakiness';
import { bisectionFilters, getBisection, listBisections } from '../data/bisections';
import { listReports, reportFilters } from '../data/reports';
import { listLabs } from '../data/labs';
import { platformCoverage } from '../data/platforms';
import { dailyCounts } from '../data/stats';
import { listOutbox, readOutboxMessage } from '../outbox';
import { toKcidb } from '../kcidb';
import { testsOfBoots } from '../data/testResults';
import { chartQuery } from '../pages/fleet';

const noQuery = z.strictObject({});

/** Read endpoints: the same data the pages show, as JSON. */
export function registerReadApi(router: Router, deps: Deps): void {
  const { sql } = deps;
  const ok = (ctx: Ctx, body: unknown) => sendJson(ctx.res, 200, body);
  const byId = (ctx: Ctx) => {
    parseQuery(noQuery, ctx.query);
    return parseId(ctx.params.id);
  };

  router.get('/api/trees', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    ok(ctx, { items: await branchOverview(sql) });
  });

  router.get('/api/revisions', async (ctx) =>
    ok(ctx, await listRevisions(sql, parseQuery(revisionFilters, ctx.query))),
  );
  router.get('/api/revisions/{id}', async (ctx) => {
    const revision = await getRevision(sql, byId(ctx));
    if (!revision) throw notFound('revision', 'id');
    const [builds, boots] = await Promise.all([
      buildsOf(sql, revision.tree, revision.sha),
      bootsOf(sql, revision.tree, revision.sha),
    ]);
    ok(ctx, { revision, builds, boots });
  });
  router.get('/api/revisions/{id}/kcidb', async (ctx) => {
    const revision = await getRevision(sql, byId(ctx));
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
    ok(ctx, toKcidb(revision, builds, boots, { baseUrl: deps.baseUrl(), treeUrl: tree?.url, tests }));
  });

  router.get('/api/builds', async (ctx) => ok(ctx, await listBuilds(sql, parseQuery(buildFilters, ctx.query))));
  router.get('/api/builds/{id}', async (ctx) => {
    const build = await getBuild(sql, byId(ctx));
    if (!build) throw notFound('build', 'id');
    ok(ctx, { build, boots: await bootsOfBuild(sql, build.id) });
  });

  router.get('/api/boots', async (ctx) => ok(ctx, await listBoots(sql, parseQuery(bootFilters, ctx.query))));
  router.get('/api/boots/{id}', async (ctx) => {
    const boot = await getBoot(sql, byId(ctx));
    if (!boot) throw notFound('boot', 'id');
    ok(ctx, boot);
  });

  router.get('/api/regressions', async (ctx) =>
    ok(ctx, await listRegressions(sql, parseQuery(regressionFilters, ctx.query))),
  );
  router.get('/api/regressions/{id}', async (ctx) => {
    const regression = await getRegression(sql, byId(ctx));
    if (!regression) throw notFound('regression', 'id');
    ok(ctx, { ...regression, history: await regressionHistory(sql, regression.id) });
  });

  router.get('/api/bisections', async (ctx) =>
    ok(ctx, await listBisections(sql, parseQuery(bisectionFilters, ctx.query))),
  );
  router.get('/api/bisections/{id}', async (ctx) => {
    const bisection = await getBisection(sql, byId(ctx));
    if (!bisection) throw notFound('bisection', 'id');
    ok(ctx, { ...bisection, boots: await bootsOfBisection(sql, bisection.workflowId) });
  });

  router.get('/api/labs', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    ok(ctx, { items: await listLabs(sql) });
  });
  router.get('/api/platforms', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    ok(ctx, { items: await platformCoverage(sql, 30) });
  });
  router.get('/api/flakiness', async (ctx) =>
    ok(ctx, { items: await listFlakiness(sql, parseQuery(flakinessFilters, ctx.query)) }),
  );
  router.get('/api/stats/daily', async (ctx) => {
    const days = parseQuery(chartQuery, ctx.query).days ?? 30;
    ok(ctx, { items: await dailyCounts(sql, days) });
  });
  router.get('/api/reports', async (ctx) => ok(ctx, await listReports(sql, parseQuery(reportFilters, ctx.query))));

  router.get('/api/outbox', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    ok(ctx, { items: deps.outboxDir ? await listOutbox(deps.outboxDir) : [] });
  });
  router.get('/api/outbox/{name}', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    if (!deps.outboxDir) throw notFound('message', 'name');
    ok(ctx, await readOutboxMessage(deps.outboxDir, ctx.params.name));
  });
}
