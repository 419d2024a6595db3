/**
 * The metrics of one worker process: its Bootfarm endpoint (metrics.port)
 * with Node's process metrics, and for the orchestrator the pipeline's event
 * metrics (through an activity interceptor) and the fleet gauges. The
 * Temporal SDK's metrics are served by the process's Runtime on
 * metrics.temporalPort (stack/workerLog.ts installs it).
 */
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { BootfarmConfig } from '../../domain/config';
import { serveMetrics, type MetricsEndpoint } from '../../plumbing/metrics/endpoint';
import { PipelineMetrics, metricsInterceptor, pipelineObservers } from './pipelineMetrics';
import { FleetCollector } from './fleetCollector';

export const BOOTFARM_METRICS_WHAT = 'Bootfarm metrics (metrics.port, --metrics-port)';

export interface WorkerMetrics {
  registry: Registry;
  /** for the orchestrator worker: counts what the record and mail activities record */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** where Prometheus scrapes this process; undefined when metrics.port is 0 */
  endpoint?: MetricsEndpoint;
  close(): Promise<void>;
}

export interface WorkerMetricsOptions {
  /** what this process runs: orchestrator, builder, lab, embedded */
  kind: string;
  config: BootfarmConfig;
  /** the orchestrator's: the fleet gauges read them */
  orchestrator?: { sql: Sql; client: Client; taskQueuePrefix?: string };
  log?: (line: string) => void;
}

/** Builds the registry and, unless metrics.port is 0, serves it; a taken port rejects with a one-line error. */
export async function startWorkerMetrics(opts: WorkerMetricsOptions): Promise<WorkerMetrics> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'bootfarm_worker_info',
    help: 'What this Bootfarm process runs (kind: orchestrator, builder, lab, embedded)',
    labelNames: ['kind'],
    registers: [registry],
  }).set({ kind: opts.kind }, 1);
  const activityInterceptors: ActivityInterceptorsFactory[] = [];
  if (opts.orchestrator) {
    const pipeline = new PipelineMetrics(registry);
    pipeline.initialise(opts.config);
    const onError = (e: unknown) => opts.log?.(`metrics: ${(e as Error).message}`);
    activityInterceptors.push(metricsInterceptor(pipelineObservers(pipeline, opts.orchestrator.sql), onError));
    new FleetCollector(registry, { ...opts.orchestrator, config: opts.config });
  }
  const { host, port } = opts.config.metrics;
  const endpoint = port ? await serveMetrics(registry, host, port, BOOTFARM_METRICS_WHAT) : undefined;
  return {
    registry,
    activityInterceptors,
    endpoint,
    close: async () => endpoint?.close(),
  };
}
