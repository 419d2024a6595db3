import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { installWorkerLog } from '../stack/workerLog';
import type { BootfarmConfig } from '../domain/config';
import { createStore } from '../plumbing/store';
import { openClient, openDb, openWorkerConnection } from '../plumbing/temporal/connections';
import { createBuilderWorkers } from './builder';
import { createLabWorker } from './lab';
import { createApiLabWorkers, createOrchestratorWorker } from './orchestrator';
import { WORKFLOWS_PATH, type WorkerDeps } from './options';

export const WORKER_KINDS = ['orchestrator', 'builder', 'lab'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/**
 * One worker kind in this process, until SIGTERM/SIGINT: then it drains —
 * running activities finish (up to the shutdown grace time), no new ones start.
 */
export async function runWorkerProcess(
  kind: WorkerKind,
  config: BootfarmConfig,
  opts: { lab?: string; arch?: string },
): Promise<void> {
  installWorkerLog(join(config.dataDir, 'logs', `${kind}${opts.lab ? `-${opts.lab}` : ''}.log`));
  const connection = await openWorkerConnection(config);
  const store = await createStore(config.artifacts);
  const deps: WorkerDeps = { config, connection, namespace: config.temporal.namespace, store };
  const cleanup: (() => Promise<unknown>)[] = [() => connection.close()];
  let workers: Worker[];
  if (kind === 'orchestrator') {
    const sql = await openDb(config);
    const { client, close } = await openClient(config);
    cleanup.unshift(() => sql.end({ timeout: 5 }), close);
    workers = [
      await createOrchestratorWorker({ ...deps, sql, client }, { workflowsPath: WORKFLOWS_PATH }),
      ...(await createApiLabWorkers({ ...deps, sql, client })),
    ];
  } else if (kind === 'builder') {
    workers = await createBuilderWorkers(deps, { arch: opts.arch });
  } else {
    workers = [await createLabWorker(deps, opts.lab as string)];
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`bootfarm: ${kind} worker draining (${sig}): finishing running tasks, taking no new ones\n`);
      for (const w of workers) w.shutdown();
    });
  }
  process.stderr.write(
    `bootfarm: ${kind} worker polling ${workers.map((w) => w.options.taskQueue).join(', ')} on ${config.temporal.address}\n`,
  );
  await Promise.all(workers.map((w) => w.run()));
  for (const c of cleanup) await c().catch(() => {});
}
