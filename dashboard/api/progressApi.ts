import type { Router } from '../router';
import type { Deps } from '../deps';
import { sendJson } from '../http';
import { parseQuery } from '../validate';
import { progressQuery, runningPipelines } from '../data/progress';

/** GET /api/progress: the running revisions and bisections with their progress (what `bootfarm status` prints). */
export function registerProgressApi(router: Router, deps: Deps): void {
  router.get('/api/progress', async (ctx) => {
    const { tree } = parseQuery(progressQuery, ctx.query);
    sendJson(ctx.res, 200, await runningPipelines(deps.sql, deps.client, tree));
  });
}
