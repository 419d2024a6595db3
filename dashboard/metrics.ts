/**
 * The dashboard's own metrics, served at its /metrics: request latency by
 * route. The route label is the route's template (`/revisions/{id}`), never
 * the path itself, so ids and names cannot multiply the series; a path no
 * route matches counts as `unmatched`.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const UNMATCHED_ROUTE = 'unmatched';

export class DashboardMetrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'bootfarm_dashboard_' });
    this.latency = new Histogram({
      name: 'bootfarm_dashboard_request_duration_seconds',
      help: 'Dashboard and REST API requests: time to the response, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const m = ['GET', 'HEAD', 'POST'].includes(method) ? method : 'other';
    this.latency.observe({ method: m, route, status: String(status) }, seconds);
  }
}
