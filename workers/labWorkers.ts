import type { Worker } from '@temporalio/worker';
import { taskQueues } from '../domain/ids';
import {
  LabWorkerConflictError,
  type LabWorkerControl,
  type LabWorkerState,
  type LabWorkerStatus,
} from '../domain/labWorker';
import { createLabWorkers, findLab } from './lab';
import type { WorkerDeps } from './options';

/** Where a stop and a start are recorded, so lab health can tell a stopped lab at once (labs.worker_stopped_at). */
export interface LabWorkerRecord {
  stopped(lab: string, at: Date): Promise<void>;
  started(lab: string): Promise<void>;
}

interface Entry {
  state: LabWorkerState;
  since: Date;
  /** one per platform of the lab (workers/lab.ts) */
  workers?: Worker[];
  /** settles when the worker has stopped */
  done: Promise<void>;
  error?: string;
}

/** How long a stop waits to report an idle worker as stopped rather than draining. */
const IDLE_STOP_WAIT_MS = 1_000;

/**
 * The lab workers of the embedded stack, in this process: per lab, one
 * worker per platform (workers/lab.ts), switched together. An operator can
 * stop a lab — its workers drain like a lab worker process on SIGTERM: the
 * boots they hold finish, they poll no more — and start it again, so the
 * demo can show a lab going offline while the others keep reporting.
 */
export class InProcessLabWorkers implements LabWorkerControl {
  private readonly entries = new Map<string, Entry>();
  private readonly queue = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: WorkerDeps,
    labs: readonly string[],
    private readonly opts: { record?: LabWorkerRecord; log?: (line: string) => void } = {},
  ) {
    for (const lab of labs) this.entries.set(lab, { state: 'stopped', since: new Date(), done: Promise.resolve() });
  }

  labs(): string[] {
    return [...this.entries.keys()];
  }

  taskQueues(): string[] {
    return this.labs().flatMap((lab) =>
      findLab(this.deps, lab).platforms.map((p) => taskQueues.labPlatform(lab, p.name)),
    );
  }

  status(lab: string): LabWorkerStatus | undefined {
    const e = this.entries.get(lab);
    if (!e) return undefined;
    const live = e.state !== 'stopped';
    const platforms = findLab(this.deps, lab).platforms.map((p, i) => ({
      name: p.name,
      boards: p.capacity,
      boots: live ? (e.workers?.[i]?.getStatus().numInFlightActivities ?? 0) : 0,
    }));
    return {
      lab,
      running: e.state === 'running',
      state: e.state,
      boots: platforms.reduce((n, p) => n + p.boots, 0),
      platforms,
      since: e.since.toISOString(),
      ...(e.error ? { error: e.error } : {}),
    };
  }

  start(lab: string): Promise<LabWorkerStatus> {
    return this.serially(lab, async (e) => {
      if (e.state === 'running') return;
      if (e.state === 'draining')
        throw new LabWorkerConflictError(
          `lab ${lab} is still draining ${this.status(lab)?.boots ?? 0} boot(s): start it again once it has stopped`,
        );
      const workers = await createLabWorkers(this.deps, lab);
      const next: Entry = { state: 'running', since: new Date(), workers, done: Promise.resolve() };
      // One platform's worker that fails stops the lab's others: the switch runs and stops a lab as a whole.
      next.done = Promise.all(
        workers.map((w) =>
          w.run().catch((err: unknown) => {
            for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
            throw err;
          }),
        ),
      ).then(
        () => this.ended(lab, next),
        (err: unknown) => this.ended(lab, next, (err as Error).message ?? String(err)),
      );
      this.entries.set(lab, next);
      await this.record(lab, (r) => r.started(lab));
      if (e.workers)
        this.opts.log?.(
          `lab ${lab}: worker started again, polling ${workers.map((w) => w.options.taskQueue).join(', ')}`,
        );
    });
  }

  stop(lab: string): Promise<LabWorkerStatus> {
    return this.serially(lab, async (e) => {
      if (e.state !== 'running' || !e.workers) return;
      const at = new Date();
      for (const w of e.workers) if (w.getState() === 'RUNNING') w.shutdown();
      e.state = 'draining';
      e.since = at;
      await this.record(lab, (r) => r.stopped(lab, at));
      this.opts.log?.(
        `lab ${lab}: worker draining: finishing its ${this.status(lab)?.boots ?? 0} boot(s), taking no new ones`,
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([e.done, new Promise((r) => (timer = setTimeout(r, IDLE_STOP_WAIT_MS)))]);
      clearTimeout(timer);
    });
  }

  startAll(): Promise<LabWorkerStatus[]> {
    return Promise.all(this.labs().map((lab) => this.start(lab)));
  }

  /** Drain every worker and wait until all have stopped (the stack is stopping). */
  async stopAll(): Promise<void> {
    await Promise.all(this.labs().map((lab) => this.stop(lab)));
    await Promise.all([...this.entries.values()].map((e) => e.done));
  }

  /** The worker's switch has happened whatever the database says; without the record, health falls back to the poller list. */
  private async record(lab: string, write: (r: LabWorkerRecord) => Promise<void>): Promise<void> {
    if (!this.opts.record) return;
    try {
      await write(this.opts.record);
    } catch (err) {
      this.opts.log?.(`lab ${lab}: could not record the worker's state: ${(err as Error).message}`);
    }
  }

  private ended(lab: string, entry: Entry, error?: string): void {
    entry.state = 'stopped';
    entry.since = new Date();
    if (error) {
      entry.error = error;
      this.opts.log?.(`lab ${lab}: worker ended: ${error}`);
    } else this.opts.log?.(`lab ${lab}: worker stopped`);
  }

  /** One start or stop of a lab at a time, in the order asked. */
  private serially(lab: string, op: (e: Entry) => Promise<void>): Promise<LabWorkerStatus> {
    if (!this.entries.has(lab))
      return Promise.reject(new Error(`this process runs no worker for lab ${JSON.stringify(lab)}`));
    const run = async () => {
      await op(this.entries.get(lab) as Entry);
      return this.status(lab) as LabWorkerStatus;
    };
    const result = (this.queue.get(lab) ?? Promise.resolve()).then(run, run);
    this.queue.set(
      lab,
      result.catch(() => {}),
    );
    return result;
  }
}
