/**
 * A Prometheus scrape endpoint: GET /metrics of one prom-client registry on
 * its own port. A port another process holds is a one-line error before
 * anything else of the process starts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export class MetricsPortError extends Error {
  constructor(host: string, port: number, what: string, reason: string) {
    super(`cannot serve ${what} on ${host}:${port}: ${reason}`);
    this.name = 'MetricsPortError';
  }
}

const IN_USE = 'the port is already in use; choose another (see docs/operations.md) or stop what holds it';

export interface MetricsEndpoint {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `registry` at http://host:port/metrics; `what` names the endpoint and the setting that moves it. */
export function serveMetrics(registry: Registry, host: string, port: number, what: string): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: Error) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${e.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new MetricsPortError(host, port, what, e.code === 'EADDRINUSE' ? IN_USE : e.message)),
    );
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
        port: bound,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Fails like serveMetrics would when the port is taken, without keeping it (for endpoints another library binds). */
export async function assertMetricsPortFree(host: string, port: number, what: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(new MetricsPortError(host, port, what, e.code === 'EADDRINUSE' ? IN_USE : e.message)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
