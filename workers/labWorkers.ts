import type { Worker } from '@temporalio/worker';
import { taskQueues } from '../domain/ids';
import {
  LabWorkerConflictError,
  UnknownPlatformError,
  type LabWorkerControl,
  type LabWorkerState,
  type LabWorkerStatus,
} from '../domain/labWorker';
import { createLabWorkers, findLab } from './lab';
import type { WorkerDeps } from './options';
import type { LabAdapter } from '../activities/labs/adapter';

/**
 * Where a stop and a start are recorded, so lab health can tell a stopped
 * lab or platform at once (labs.worker_stopped_at, lab_platforms.worker_stopped_at).
 */
export interface LabWorkerRecord {
  /** `platform` absent: the whole lab */
  stopped(lab: string, at: Date, platform?: string): Promise<void>;
  started(lab: string, platform?: string): Promise<void>;
}

/** The worker of one platform of a lab (workers/lab.ts). */
interface Board {
  state: LabWorkerState;
  since: Date;
  worker?: Worker;
  /** settles when the worker has stopped */
  done: Promise<void>;
  error?: string;
}

/** How long a stop waits to report an idle worker as stopped rather than draining. */
const IDLE_STOP_WAIT_MS = 1_000;

/** A lab's state from its platforms': draining while any drains, stopped when all are, else running. */
function labState(boards: Board[]): LabWorkerState {
  if (boards.some((b) => b.state === 'draining')) return 'draining';
  return boards.every((b) => b.state === 'stopped') ? 'stopped' : 'running';
}

/**
 * The lab workers of the embedded stack, in this process: per lab, one
 * worker per platform (workers/lab.ts). An operator can stop a lab, or one
 * platform of it (its boards taken out for maintenance) — the workers drain
 * like a lab worker process on SIGTERM: the boots they hold finish, they poll
 * no more — and start it again, so the demo can show a lab or a platform
 * going offline while the others keep reporting.
 */
export class InProcessLabWorkers implements LabWorkerControl {
  private readonly entries = new Map<string, Map<string, Board>>();
  private readonly queue = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: WorkerDeps,
    labs: readonly string[],
    private readonly opts: {
      record?: LabWorkerRecord;
      log?: (line: string) => void;
      /** prepended to the queue names, as the pipeline's taskQueuePrefix (isolated tests, staging) */
      taskQueuePrefix?: string;
      /** by lab: adapters added to or replacing its configured ones (tests, benches) */
      adapters?: Record<string, Record<string, LabAdapter>>;
    } = {},
  ) {
    for (const lab of labs)
      this.entries.set(
        lab,
        new Map(
          findLab(deps, lab).platforms.map((p) => [
            p.name,
            { state: 'stopped', since: new Date(), done: Promise.resolve() },
          ]),
        ),
      );
  }

  labs(): string[] {
    return [...this.entries.keys()];
  }

  private queueOf(lab: string, platform: string): string {
    return (this.opts.taskQueuePrefix ?? '') + taskQueues.labPlatform(lab, platform);
  }

  taskQueues(): string[] {
    return this.labs().flatMap((lab) => [...this.entries.get(lab)!.keys()].map((p) => this.queueOf(lab, p)));
  }

  status(lab: string): LabWorkerStatus | undefined {
    const boards = this.entries.get(lab);
    if (!boards) return undefined;
    const capacity = new Map(findLab(this.deps, lab).platforms.map((p) => [p.name, p.capacity]));
    const platforms = [...boards].map(([name, b]) => ({
      name,
      boards: capacity.get(name) ?? 0,
      boots: b.worker && b.state !== 'stopped' ? b.worker.getStatus().numInFlightActivities : 0,
      state: b.state,
    }));
    const all = [...boards.values()];
    const state = labState(all);
    const error = all.find((b) => b.error)?.error;
    return {
      lab,
      running: state === 'running',
      state,
      boots: platforms.reduce((n, p) => n + p.boots, 0),
      platforms,
      since: new Date(Math.max(...all.map((b) => b.since.getTime()))).toISOString(),
      ...(error ? { error } : {}),
    };
  }

  start(lab: string, platform?: string): Promise<LabWorkerStatus> {
    return this.serially(lab, platform, async (boards) => {
      const draining = boards.filter(([, b]) => b.state === 'draining');
      if (draining.length)
        throw new LabWorkerConflictError(
          `${this.what(lab, platform)} is still draining ${draining.reduce((n, [, b]) => n + (b.worker?.getStatus().numInFlightActivities ?? 0), 0)} boot(s): start it again once it has stopped`,
        );
      const stopped = boards.filter(([, b]) => b.state === 'stopped');
      if (!stopped.length) return;
      const again = stopped.some(([, b]) => b.worker);
      const workers = await createLabWorkers(this.deps, lab, {
        taskQueuePrefix: this.opts.taskQueuePrefix,
        adapters: this.opts.adapters?.[lab],
        platforms: stopped.map(([name]) => name),
      });
      stopped.forEach(([name], i) => this.run(lab, name, workers[i]));
      await this.record(lab, (r) => r.started(lab, platform));
      if (again)
        this.opts.log?.(
          `${this.what(lab, platform)}: worker started again, polling ${workers.map((w) => w.options.taskQueue).join(', ')}`,
        );
    });
  }

  stop(lab: string, platform?: string): Promise<LabWorkerStatus> {
    return this.serially(lab, platform, async (boards) => {
      const running = boards.filter(([, b]) => b.state === 'running' && b.worker);
      if (!running.length) return;
      const at = new Date();
      for (const [, b] of running) {
        if (b.worker?.getState() === 'RUNNING') b.worker.shutdown();
        b.state = 'draining';
        b.since = at;
      }
      await this.record(lab, (r) => r.stopped(lab, at, platform));
      const boots = running.reduce((n, [, b]) => n + (b.worker?.getStatus().numInFlightActivities ?? 0), 0);
      this.opts.log?.(
        `${this.what(lab, platform)}: worker draining: finishing its ${boots} boot(s), taking no new ones`,
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(running.map(([, b]) => b.done)),
        new Promise((r) => (timer = setTimeout(r, IDLE_STOP_WAIT_MS))),
      ]);
      clearTimeout(timer);
    });
  }

  startAll(): Promise<LabWorkerStatus[]> {
    return Promise.all(this.labs().map((lab) => this.start(lab)));
  }

  /** Drain every worker and wait until all have stopped (the stack is stopping). */
  async stopAll(): Promise<void> {
    await Promise.all(this.labs().map((lab) => this.stop(lab)));
    await Promise.all([...this.entries.values()].flatMap((boards) => [...boards.values()].map((b) => b.done)));
  }

  private what(lab: string, platform?: string): string {
    return platform ? `lab ${lab} platform ${platform}` : `lab ${lab}`;
  }

  private run(lab: string, platform: string, worker: Worker): void {
    const board: Board = { state: 'running', since: new Date(), worker, done: Promise.resolve() };
    board.done = worker.run().then(
      () => this.ended(lab, platform, board),
      (err: unknown) => this.ended(lab, platform, board, (err as Error).message ?? String(err)),
    );
    this.entries.get(lab)!.set(platform, board);
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

  private ended(lab: string, platform: string, board: Board, error?: string): void {
    board.state = 'stopped';
    board.since = new Date();
    if (error) {
      board.error = error;
      this.opts.log?.(`lab ${lab} platform ${platform}: worker ended: ${error}`);
    } else this.opts.log?.(`lab ${lab} platform ${platform}: worker stopped`);
  }

  /** One start or stop of a lab (or of a platform of it) at a time, in the order asked. */
  private serially(
    lab: string,
    platform: string | undefined,
    op: (boards: [string, Board][]) => Promise<void>,
  ): Promise<LabWorkerStatus> {
    const boards = this.entries.get(lab);
    if (!boards) return Promise.reject(new Error(`this process runs no worker for lab ${JSON.stringify(lab)}`));
    if (platform !== undefined && !boards.has(platform))
      return Promise.reject(
        new UnknownPlatformError(
          `lab ${lab} has no platform ${JSON.stringify(platform)} (platforms: ${[...boards.keys()].join(', ')})`,
        ),
      );
    const run = async () => {
      await op([...boards].filter(([name]) => platform === undefined || name === platform));
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
