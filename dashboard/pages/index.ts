import type { Router } from '../router';
import type { Deps } from '../deps';
import { notFound, redirect, RequestError, sendHtml, type Ctx } from '../http';
import type { SafeHtml } from '../html';
import { parseId, parseQuery } from '../validate';
import { z } from 'zod';
import { homePage, revisionPage, revisionsPage } from './revisions';
import { bootPage, bootsPage, buildPage } from './runs';
import { bisectionPage, bisectionsPage, regressionsPage } from './regressions';
import { chartsPage, labsPage, platformsPage } from './fleet';
import { outboxMessagePage, outboxPage, expiredMailPage } from './outboxPage';
import { serveArtifact } from '../artifacts';
import { artifactExpiredAt, mailExpiredAt } from '../data/expired';

const noQuery = z.strictObject({});

/** The HTML pages: server-rendered, no script, stable URLs. */
export function registerPages(router: Router, deps: Deps): void {
  const { sql, store } = deps;
  const page = (render: (ctx: Ctx) => Promise<SafeHtml>) => async (ctx: Ctx) =>
    sendHtml(ctx.res, 200, await render(ctx));
  // Links into pages may carry a fragment or tracking query; ids are what matter on item pages.
  const id = (ctx: Ctx) => parseId(ctx.params.id);

  router.get(
    '/',
    page(() => homePage(sql, deps)),
  );
  router.get(
    '/revisions',
    page((ctx) => revisionsPage(sql, deps, ctx.query)),
  );
  router.get(
    '/revisions/{id}',
    page((ctx) => revisionPage(sql, deps, id(ctx))),
  );
  router.get(
    '/builds/{id}',
    page((ctx) => buildPage(sql, store, deps, id(ctx))),
  );
  router.get(
    '/boots',
    page((ctx) => bootsPage(sql, deps, ctx.query)),
  );
  router.get(
    '/boots/{id}',
    page((ctx) => bootPage(sql, store, deps, id(ctx))),
  );
  router.get(
    '/regressions',
    page((ctx) => regressionsPage(sql, deps, ctx.query)),
  );
  router.get(
    '/bisections',
    page((ctx) => bisectionsPage(sql, deps, ctx.query)),
  );
  router.get(
    '/bisections/{id}',
    page((ctx) => bisectionPage(sql, deps, id(ctx))),
  );
  router.get(
    '/labs',
    page(() => labsPage(sql)),
  );
  router.get(
    '/platforms',
    page(() => platformsPage(sql)),
  );
  router.get(
    '/charts',
    page((ctx) => chartsPage(sql, ctx.query)),
  );
  router.get(
    '/outbox',
    page(() => outboxPage(deps.outboxDir, sql)),
  );
  router.get(
    '/outbox/{name}',
    page((ctx) => {
      if (!deps.outboxDir) throw notFound('message', 'name');
      return outboxMessagePage(deps.outboxDir, ctx.params.name).catch(async (e: unknown) => {
        const at = e instanceof RequestError && e.status === 404 ? await mailExpiredAt(sql, ctx.params.name) : null;
        if (!at) throw e;
        return expiredMailPage(ctx.params.name, at);
      });
    }),
  );
  router.get('/artifacts/{key+}', (ctx) => serveArtifact(store, ctx, (key) => artifactExpiredAt(sql, key)));
  router.get('/api', async (ctx) => {
    parseQuery(noQuery, ctx.query);
    redirect(ctx.res, '/api/openapi.json');
  });
}
