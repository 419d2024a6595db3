import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { taskQueues } from '../domain/ids';
import type { LabConfig } from '../domain/config';
import type { BootRequest, BootResult } from '../domain/types';
import { createLabActivities } from '../activities/labs';
import type { LabAdapter } from '../activities/labs/adapter';
import { configuredAdapters } from '../activities/labs/configured';
import type { WorkerDeps } from './options';
import { PlatformSlots } from './platformSlots';

export function findLab(deps: WorkerDeps, name: string): LabConfig {
  const lab = deps.config.labs.find((l) => l.name === name);
  if (!lab)
    throw new Error(
      `no lab ${JSON.stringify(name)} in the config (labs: ${deps.config.labs.map((l) => l.name).join(', ') || 'none'})`,
    );
  return lab;
}

/**
 * A lab worker polls `lab-<name>` only. It takes as many boots as the lab has
 * boards in all, and holds each boot until a board of its platform is free,
 * heartbeating meanwhile so the wait is not mistaken for a dead worker.
 */
export async function createLabWorker(
  deps: WorkerDeps,
  labName: string,
  opts: { adapters?: Record<string, LabAdapter> } = {},
): Promise<Worker> {
  const lab = findLab(deps, labName);
  const capacity = Object.fromEntries(lab.platforms.map((p) => [p.name, p.capacity]));
  const slots = new PlatformSlots(capacity);
  // well inside the lab's heartbeat timeout, so a boot waiting for a board is never taken for a dead worker
  const waitBeatMs = Math.min(5000, lab.heartbeatTimeout / 3);
  const inner = createLabActivities({
    lab,
    store: deps.store,
    workDir: join(deps.config.dataDir, 'labs', lab.name),
    adapters: { ...configuredAdapters(lab), ...opts.adapters },
  });
  const activities = {
    async bootKernel(req: BootRequest): Promise<BootResult> {
      const ctx = Context.current();
      const waiting = setInterval(() => ctx.heartbeat({ waitingFor: req.platform.name }), waitBeatMs);
      let release: () => void;
      try {
        release = await slots.acquire(req.platform.name, ctx.cancellationSignal);
      } finally {
        clearInterval(waiting);
      }
      try {
        return await inner.bootKernel(req);
      } finally {
        release();
      }
    },
  };
  const total = Object.values(capacity).reduce((a, b) => a + b, 0);
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: taskQueues.lab(lab.name),
    activities,
    // One more than the boards: a full lab keeps polling, so the pre-dispatch check never mistakes it for offline.
    maxConcurrentActivityTaskExecutions: total + 1,
    // On SIGTERM: finish the running boots, take no new ones.
    shutdownGraceTime: lab.bootTimeout + 30_000,
  });
}
