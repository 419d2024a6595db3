import type { Worker } from '@temporalio/worker';
import { installServiceWorkerLog } from '../stack/workerLog';
import type { BootfarmConfig, LabConfig } from '../domain/config';
import { UserError } from '../domain/userError';
import { createConfigActivities } from '../activities/pipeline/configRecords';
import { DependencyWatch, type Dependency } from '../plumbing/dependencyWatch';
import { reason, serviceLog, type ServiceLog } from '../plumbing/serviceLog';
import { databaseDependency, openStore, storeDependency, temporalDependency } from '../plumbing/serviceDependencies';
import { ensureRetentionSchedule, ensureTreeSchedules } from '../plumbing/temporal/schedules';
import {
  databaseUrl,
  describeTemporal,
  openClient,
  openDb,
  openWorkerConnection,
  temporalSettings,
} from '../plumbing/temporal/connections';
import { createBuilderWorkers } from './builder';
import { createLabWorkers } from './lab';
import { createApiLabWorkers, createOrchestratorWorker } from './orchestrator';
import { ORCHESTRATOR_TUNING, WORKFLOWS_PATH, type WorkerDeps } from './options';
import { BOOTFARM_METRICS_WHAT, startWorkerMetrics, type WorkerMetrics } from './metrics';
import { assertMetricsPortFree } from '../plumbing/metrics/endpoint';

export const WORKER_KINDS = ['orchestrator', 'builder', 'lab'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/**
 * How long a draining orchestrator lets its activities finish. Its activities
 * are short bookkeeping, or long waits (awaitBuildBoot) that another
 * orchestrator takes over through their heartbeats when this one lets go.
 */
const ORCHESTRATOR_GRACE_MS = 30_000;

/** The lab a lab worker serves, checked before anything is connected. */
export function labToServe(config: BootfarmConfig, name: string | undefined): LabConfig {
  if (!name) throw new UserError('a lab worker needs --lab NAME');
  const lab = config.labs.find((l) => l.name === name);
  const labs = config.labs.map((l) => l.name).join(', ') || 'none';
  if (!lab) throw new UserError(`no lab ${JSON.stringify(name)} in the config (labs: ${labs})`);
  if (lab.adapter === 'api')
    throw new UserError(
      `lab ${name} is an api lab: it runs no worker (its boots wait in the orchestrators; the lab posts results to the dashboard)`,
    );
  return lab;
}

/** How long a worker of this kind finishes its running tasks after SIGTERM. */
function graceMs(kind: WorkerKind, config: BootfarmConfig, lab?: LabConfig): number {
  if (kind === 'builder') return config.builder.shutdownGrace;
  if (kind === 'lab') return (lab as LabConfig).bootTimeout + 30_000;
  return ORCHESTRATOR_GRACE_MS;
}

/**
 * One worker kind in this process, as a deployment's service: it checks its
 * dependencies at start (one line and exit 1 when one is unreachable), logs
 * one line per event to stdout, watches its dependencies while it runs
 * (DependencyWatch), and on SIGTERM/SIGINT drains — running activities
 * finish within the kind's grace, no new ones start — then exits 0. Resolves
 * with the exit code.
 */
export async function runWorkerProcess(
  kind: WorkerKind,
  config: BootfarmConfig,
  opts: { lab?: string; arch?: string; log?: ServiceLog },
): Promise<number> {
  const lab = kind === 'lab' ? labToServe(config, opts.lab) : undefined;
  const log = opts.log ?? serviceLog(lab ? `lab-worker ${lab.name}` : kind);
  const temporal = temporalSettings(config);
  const { host, port: metricsPort, temporalPort } = config.metrics;
  // Both metrics ports are checked before anything starts: a taken one is the whole error.
  if (metricsPort) await assertMetricsPortFree(host, metricsPort, BOOTFARM_METRICS_WHAT);
  await installServiceWorkerLog(log, { host, port: temporalPort });

  const cleanup: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  };
  const dependencies: Dependency[] = [];
  let workers: Worker[];
  try {
    const sql = kind === 'orchestrator' ? await openDb(config) : undefined;
    if (sql) {
      cleanup.push(() => sql.end({ timeout: 5 }));
      dependencies.push(databaseDependency(sql, databaseUrl(config)));
    }
    const connection = await openWorkerConnection(config, temporal);
    cleanup.push(() => connection.close());
    dependencies.push(
      temporalDependency(temporal.address, () =>
        connection.withDeadline(Date.now() + 5000, () => connection.workflowService.getSystemInfo({})),
      ),
    );
    const store = await openStore(config);
    cleanup.push(async () => store.close?.());
    dependencies.push(...storeDependency(store, config));
    const deps: WorkerDeps = { config, connection, namespace: temporal.namespace, store };

    let metrics: WorkerMetrics;
    if (kind === 'orchestrator' && sql) {
      const { client, close } = await openClient(config, temporal);
      cleanup.push(close);
      metrics = await startWorkerMetrics({ kind, config, orchestrator: { sql, client }, log });
      const orchestrator = { ...deps, sql, client, activityInterceptors: metrics.activityInterceptors };
      workers = [
        await createOrchestratorWorker(orchestrator, { workflowsPath: WORKFLOWS_PATH }, undefined, {
          ...ORCHESTRATOR_TUNING,
          shutdownGraceTime: ORCHESTRATOR_GRACE_MS,
        }),
        ...(await createApiLabWorkers(orchestrator)),
      ];
      // What the dashboard and the labs API know of, and the tree monitors: every orchestrator writes the same.
      const synced = await createConfigActivities({ sql }).syncConfig(config);
      const schedules = await ensureTreeSchedules(client, config);
      // Every orchestrator ensures it; the schedule's id makes that one schedule.
      const retention = await ensureRetentionSchedule(client, config);
      log(
        `recorded ${synced.trees} trees, ${synced.platforms} platforms, ${synced.labs} labs; tree schedules: ${[...schedules.created, ...schedules.updated].join(', ') || 'none'}; retention schedule ${retention}`,
      );
    } else {
      metrics = await startWorkerMetrics({ kind, config, log });
      workers =
        kind === 'builder'
          ? await createBuilderWorkers(deps, { arch: opts.arch })
          : await createLabWorkers(deps, (lab as LabConfig).name);
    }
    const endpoint = metrics.endpoint;
    cleanup.push(() => metrics.close());
    if (endpoint || temporalPort)
      log(
        `metrics: ${[endpoint?.url, temporalPort ? `Temporal SDK http://${host}:${temporalPort}/metrics` : ''].filter(Boolean).join(', ')}`,
      );
  } catch (e) {
    await closeAll();
    throw e;
  }

  const watch = new DependencyWatch(dependencies, { log }).start();
  let draining = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (draining) {
      log(`${sig} again: stopping now, running tasks are given back for a retry elsewhere`);
      process.exit(1);
    }
    draining = true;
    const running = workers.reduce((n, w) => n + w.getStatus().numInFlightActivities, 0);
    log(
      `draining (${sig}): finishing ${running} running task(s) within ${Math.round(graceMs(kind, config, lab) / 1000)}s, taking no new ones`,
    );
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log(`polling ${workers.map((w) => w.options.taskQueue).join(', ')} on ${describeTemporal(temporal)}`);

  const results = await Promise.allSettled(
    workers.map((w) =>
      w.run().catch((e: unknown) => {
        // One worker failed for good: the others stop too, so the process is whole or gone.
        log(`the worker on ${w.options.taskQueue} failed: ${reason(e)}`);
        for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
        throw e;
      }),
    ),
  );
  watch.stop();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  await closeAll();
  const failed = results.some((r) => r.status === 'rejected');
  log(failed ? 'stopped after a failure' : 'stopped');
  return failed ? 1 : 0;
}
