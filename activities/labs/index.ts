/**
 * The boot activity of a lab worker (task queue `lab-<name>`): picks the
 * lab's adapter and gives it Temporal's heartbeat and cancellation.
 */
import { Context } from '@temporalio/activity';
import type { LabActivities } from '../../domain/activityContracts';
import type { LabConfig } from '../../domain/config';
import type { BootRequest, BootResult } from '../../domain/types';
import type { ArtifactStore } from '../../plumbing/store/types';
import type { BootContext, LabAdapter } from './adapter';
import { QemuAdapter } from './qemu';

export type { BootContext, LabAdapter } from './adapter';
export { bootLogKey } from './adapter';
export type { LabActivities } from '../../domain/activityContracts';

export interface LabActivityDeps {
  lab: LabConfig;
  store: ArtifactStore;
  /** scratch space for this lab's boots (each boot makes and removes its own subdirectory) */
  workDir: string;
  /** adapters by LabConfig.adapter, added to or replacing the built-in qemu */
  adapters?: Record<string, LabAdapter>;
}

export class AdapterNotAvailableError extends Error {
  constructor(adapter: string, lab: string, available: string[]) {
    super(
      `lab ${lab}: adapter ${JSON.stringify(adapter)} is not available in this worker (available: ${available.join(', ')})`,
    );
    this.name = 'AdapterNotAvailableError';
  }
}

export function builtinAdapters(): Record<string, LabAdapter> {
  return { qemu: new QemuAdapter() };
}

/** The adapter of `lab`; throws AdapterNotAvailableError when this worker has none for it. */
export function adapterFor(lab: LabConfig, adapters: Record<string, LabAdapter>): LabAdapter {
  const adapter = adapters[lab.adapter];
  if (!adapter) throw new AdapterNotAvailableError(lab.adapter, lab.name, Object.keys(adapters));
  return adapter;
}

export function createLabActivities(deps: LabActivityDeps): LabActivities {
  const adapters = { ...builtinAdapters(), ...deps.adapters };
  return {
    async bootKernel(req: BootRequest): Promise<BootResult> {
      const adapter = adapterFor(deps.lab, adapters);
      if (req.lab !== deps.lab.name)
        throw new Error(`a boot for lab ${req.lab} reached the worker of lab ${deps.lab.name}`);
      if (!deps.lab.platforms.some((p) => p.name === req.platform.name))
        throw new Error(`lab ${deps.lab.name} has no platform ${req.platform.name}`);
      const activity = Context.current();
      const ctx: BootContext = {
        store: deps.store,
        workDir: deps.workDir,
        heartbeat: (details) => activity.heartbeat(details),
        signal: activity.cancellationSignal,
        log: (line) => activity.log.info(line, { bootKey: req.bootKey }),
        resumed: activity.info.attempt > 1 ? activity.info.heartbeatDetails : undefined,
      };
      // a retried boot says so in its record: the attempt that answered, not the default 1
      return { ...(await adapter.boot(req, ctx)), attempts: activity.info.attempt };
    },
  };
}
