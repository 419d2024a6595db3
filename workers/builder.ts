import { join } from 'node:path';
import { hostname } from 'node:os';
import { Worker } from '@temporalio/worker';
import { taskQueues } from '../domain/ids';
import { createBuildActivities } from '../activities/build/index';
import { boxUserOf } from '../activities/build/box';
import { sweepBuilder } from '../activities/retention/local';
import type { WorkerDeps } from './options';
import { sweepWhileRunning } from './housekeeping';

/** The ccache directory builds use: the operator's CCACHE_DIR, else the builder's own beside its build directories. */
export function builderCcacheDir(workDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.CCACHE_DIR ?? join(workDir, 'ccache');
}

/**
 * A builder polls `build` (and `build-<arch>` when it specialises). It runs
 * one build at a time per core pair: kbuild already uses every core given
 * `-j`, and two builds sharing cores only slow each other.
 */
export async function createBuilderWorkers(
  deps: WorkerDeps,
  opts: { arch?: string; maxConcurrent?: number; taskQueuePrefix?: string } = {},
): Promise<Worker[]> {
  const { config } = deps;
  const mirrorDir = join(config.dataDir, 'mirrors');
  const ccacheDir = builderCcacheDir(config.builder.workDir);
  const activities = createBuildActivities({
    store: deps.store,
    workDir: config.builder.workDir,
    jobs: config.builder.jobs,
    ccache: config.builder.ccache,
    maxLogBytes: config.builder.maxLogBytes,
    buildTimeoutMs: config.builder.buildTimeout,
    boxUser: config.builder.boxUser,
    builderName: hostname(),
    // On the orchestrator's host, its mirrors: one copy of each tree's history. A builder elsewhere has its own and
    // makes a bisection's revert commit itself (activities/build/commitSource.ts).
    git: { mirrorDir },
    env: { CCACHE_DIR: ccacheDir },
  });
  const queues = [taskQueues.build(), ...(opts.arch ? [taskQueues.build(opts.arch)] : [])].map(
    (q) => (opts.taskQueuePrefix ?? '') + q,
  );
  const workers = await Promise.all(
    queues.map((taskQueue) =>
      Worker.create({
        connection: deps.connection,
        namespace: deps.namespace,
        taskQueue,
        activities,
        maxConcurrentActivityTaskExecutions: opts.maxConcurrent ?? 1,
        // On SIGTERM: finish the running build (up to the grace), take no new one.
        shutdownGraceTime: config.builder.shutdownGrace,
      }),
    ),
  );
  const { retention } = config;
  sweepWhileRunning(workers, 'builder', retention.localEvery, () =>
    sweepBuilder({
      workDir: config.builder.workDir,
      mirrorDir,
      worktreesMs: retention.worktrees,
      ccacheDir,
      ccacheBytes: config.builder.ccache ? retention.ccacheSize : null,
      boxUser: boxUserOf(config.builder.boxUser),
    }),
  );
  return workers;
}
