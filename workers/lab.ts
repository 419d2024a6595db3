import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { taskQueues } from '../domain/ids';
import type { LabConfig } from '../domain/config';
import type { BootRequest, BootResult } from '../domain/types';
import { createLabActivities } from '../activities/labs';
import type { LabAdapter } from '../activities/labs/adapter';
import { configuredAdapters } from '../activities/labs/configured';
import { sweepLabScratch } from '../activities/retention/local';
import type { WorkerDeps } from './options';
import { sweepWhileRunning } from './housekeeping';

export function findLab(deps: WorkerDeps, name: string): LabConfig {
  const lab = deps.config.labs.find((l) => l.name === name);
  if (!lab)
    throw new Error(
      `no lab ${JSON.stringify(name)} in the config (labs: ${deps.config.labs.map((l) => l.name).join(', ') || 'none'})`,
    );
  return lab;
}

export interface LabWorkerOptions {
  /** adapters added to or replacing the lab's configured ones (tests, benches) */
  adapters?: Record<string, LabAdapter>;
  /** prepended to the queue names, as the pipeline's taskQueuePrefix (isolated tests, staging) */
  taskQueuePrefix?: string;
  /** serve only these platforms of the lab (a host with some of its boards); default all */
  platforms?: string[];
}

/**
 * A lab's workers: one per platform, polling `lab-<lab>-<platform>` and
 * running at most as many boots as the lab has boards of that platform. So
 * Temporal hands a boot out only when a board of its kind is free: a boot
 * waits in its queue, not inside an activity, the activity's start-to-close
 * covers the boot alone, and a queue nobody takes from within the lab's
 * schedule-to-start means no board of that platform is there (or free).
 */
export async function createLabWorkers(
  deps: WorkerDeps,
  labName: string,
  opts: LabWorkerOptions = {},
): Promise<Worker[]> {
  const lab = findLab(deps, labName);
  const workDir = join(deps.config.dataDir, 'labs', lab.name);
  const { bootKernel } = createLabActivities({
    lab,
    store: deps.store,
    workDir,
    adapters: { ...configuredAdapters(lab), ...opts.adapters },
  });
  const unknown = opts.platforms?.filter((p) => !lab.platforms.some((lp) => lp.name === p)) ?? [];
  if (unknown.length)
    throw new Error(
      `lab ${lab.name} has no platform ${unknown.map((p) => JSON.stringify(p)).join(', ')} (platforms: ${lab.platforms.map((p) => p.name).join(', ')})`,
    );
  const served = lab.platforms.filter((p) => !opts.platforms || opts.platforms.includes(p.name));
  const workers = await Promise.all(
    served.map((platform) =>
      Worker.create({
        connection: deps.connection,
        namespace: deps.namespace,
        taskQueue: (opts.taskQueuePrefix ?? '') + taskQueues.labPlatform(lab.name, platform.name),
        activities: {
          bootKernel(req: BootRequest): Promise<BootResult> {
            if (req.platform.name !== platform.name)
              throw new Error(
                `a boot for platform ${req.platform.name} reached the ${platform.name} boards of lab ${lab.name}`,
              );
            return bootKernel(req);
          },
        },
        maxConcurrentActivityTaskExecutions: platform.capacity,
        // On SIGTERM: finish the running boots, take no new ones.
        shutdownGraceTime: lab.bootTimeout + 30_000,
      }),
    ),
  );
  const { retention } = deps.config;
  sweepWhileRunning(workers, `lab ${lab.name}`, retention.localEvery, () =>
    sweepLabScratch(workDir, retention.labScratch),
  );
  return workers;
}
