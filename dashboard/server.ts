import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { markup } from './html';
import { RequestError, sendHtml, sendJson, type Ctx } from './http';
import { Router } from './router';
import type { DashboardOptions, Deps } from './deps';
import { registerPages } from './pages';
import { API_ROUTES } from './api/routes';
import { layout } from './pages/layout';
import { BadRequestTarget, guardServer, parseRequestTarget } from '../plumbing/httpGuard';
import { hostAllowList } from './hosts';
import { DashboardMetrics, UNMATCHED_ROUTE } from './metrics';

export type {
  DashboardOptions,
  StartRevision,
  StartBisection,
  CancelBisection,
  BisectionRequest,
  StartedWorkflow,
} from './deps';

export interface Dashboard {
  server: Server;
  router: Router;
  /** resolves with the bound address once listening; port 0 picks a free port */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** requests being answered now */
  inFlight(): number;
  /**
   * Stop listening; requests being answered finish within `graceMs` (default
   * 0: connections are cut at once), then every connection is closed.
   */
  close(graceMs?: number): Promise<void>;
}

export function buildRouter(deps: Deps, metrics?: DashboardMetrics): Router {
  const router = new Router();
  if (metrics)
    router.get('/metrics', async (ctx) => {
      const text = await metrics.registry.metrics();
      ctx.res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
      ctx.res.end(text);
    });
  for (const route of API_ROUTES) router.api(route, deps);
  registerPages(router, deps);
  return router;
}

function sendError(
  ctx: Pick<Ctx, 'res' | 'path'>,
  status: number,
  message: string,
  field?: string,
  headers: Record<string, string> = {},
): void {
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
  if (ctx.path === '/api' || ctx.path.startsWith('/api/'))
    sendJson(ctx.res, status, field ? { error: message, field } : { error: message });
  else
    sendHtml(
      ctx.res,
      status,
      layout(
        `${status}`,
        markup`<h1>${status}</h1>
          <p>${message}${field ? markup` <span class="muted">(${field})</span>` : ''}</p>
          <p><a href="/">Home</a></p>`,
      ),
    );
}

/**
 * The dashboard and REST API over the results database, the artifact store
 * and the embedded outbox. Plain node:http; every page is server-rendered.
 */
export function createDashboard(opts: DashboardOptions): Dashboard {
  let listening: string | undefined;
  const deps: Deps = { ...opts, baseUrl: () => opts.publicUrl ?? listening ?? 'http://127.0.0.1' };
  const logError = opts.logError ?? ((message: string, e: unknown) => console.error(message, e));
  const metrics = new DashboardMetrics();
  const router = buildRouter(deps, metrics);

  const hostAllowed = hostAllowList([opts.publicUrl, ...(opts.allowedHosts ?? [])]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let route = UNMATCHED_ROUTE;
    res.once('finish', () =>
      metrics.observe(req.method ?? 'GET', route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9),
    );
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const ctx: Ctx = { req, res, path, query: new URLSearchParams(), params: {} };
    try {
      try {
        ctx.query = new URLSearchParams(parseRequestTarget(raw).query);
      } catch (e) {
        if (e instanceof BadRequestTarget) throw new RequestError(e.status, e.message, 'path');
        throw e;
      }
      // A page of ours opened under a name someone else's DNS controls (DNS rebinding) is refused.
      if (!hostAllowed(req.headers.host))
        throw new RequestError(400, 'this dashboard does not answer to that Host name', 'host');
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const match = router.match(method, path);
      if (!match) throw new RequestError(404, 'not found', 'path');
      if ('allowed' in match)
        throw new RequestError(405, `method ${req.method} not allowed here`, 'method', {
          allow: [...new Set(match.allowed)].join(', '),
        });
      route = match.route.template;
      ctx.params = match.params;
      await match.route.handler(ctx);
    } catch (e) {
      if (e instanceof RequestError) return sendError(ctx, e.status, e.message, e.field, e.headers);
      const down = opts.unavailable?.() ?? [];
      if (down.length)
        return sendError(ctx, 503, `${down.join(', ')} unreachable: try again shortly`, undefined, {
          'retry-after': '5',
        });
      logError(`dashboard: ${req.method} ${path} failed:`, e);
      sendError(ctx, 500, 'internal error');
    }
  }

  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
    void handle(req, res);
  });
  guardServer(server);

  return {
    server,
    router,
    listen(port: number, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const addr = server.address() as AddressInfo;
          const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          listening = `http://${shown}:${addr.port}`;
          resolve({ port: addr.port, url: listening });
        });
      });
    },
    inFlight: () => inFlight,
    close(graceMs = 0) {
      return new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // Kept-alive connections between requests go now; one answering a request goes when its answer is out.
        server.closeIdleConnections();
        if (graceMs <= 0) server.closeAllConnections();
        else timer = setTimeout(() => server.closeAllConnections(), graceMs);
      });
    },
  };
}
