/**
 * The fleet's state as gauges, read when Prometheus scrapes (at most once
 * per `cacheMs`, however many gauges or scrapers ask): task queue backlogs
 * from Temporal, lab presence from Temporal's poller list and the operator's
 * stop records, open regressions and running bisections from the results
 * database, and the alert thresholds from the config. A source that cannot
 * be read leaves its gauges out of that scrape and counts an error, so a
 * database outage shows as missing data and an error count, not as zeros.
 */
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BootfarmConfig } from '../../domain/config';
import { SILENCE_MS, STOP_POLL_MARGIN_MS, labPresence } from '../../activities/labs/health';
import { describeQueue, watchedQueues, type QueueState, type WatchedQueue } from './queues';

interface LabState {
  lab: string;
  up: boolean;
  offlineSeconds: number;
  graceSeconds: number;
}

interface Snapshot {
  queues?: { q: WatchedQueue; state: QueueState }[];
  labs?: LabState[];
  regressions?: { tree: string; kind: string; n: number }[];
  bisections?: { tree: string; n: number; oldest: number }[];
  revisions?: { tree: string; n: number }[];
}

export interface FleetCollectorOptions {
  sql: Sql;
  client: Client;
  config: Pick<BootfarmConfig, 'labs' | 'buildConfigs' | 'metrics'>;
  /** prepended to task queue names (isolated tests) */
  taskQueuePrefix?: string;
  cacheMs?: number;
  now?: () => number;
}

export class FleetCollector {
  private snapshot: Promise<Snapshot> | undefined;
  /** when the snapshot was complete; undefined while it is being taken */
  private takenAt: number | undefined;
  /** when this process first saw a lab that never polled without a worker */
  private readonly unseenSince = new Map<string, number>();
  private readonly errors: Counter<'source'>;
  private readonly queues: WatchedQueue[];
  private readonly now: () => number;

  constructor(
    registry: Registry,
    private readonly opts: FleetCollectorOptions,
  ) {
    this.now = opts.now ?? (() => Date.now());
    const arches = [...new Set(opts.config.buildConfigs.map((c) => c.arch))];
    this.queues = watchedQueues(opts.config.labs, arches, opts.taskQueuePrefix);
    const registers = [registry];
    const read = () => this.read();
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      fill: (g: Gauge<L>, s: Snapshot) => void,
    ) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          fill(this, await read());
        },
      });

    gauge(
      'bootfarm_queue_backlog_tasks',
      'Tasks waiting in a lab or build task queue',
      ['queue', 'lab', 'platform'],
      (g, s) =>
        s.queues?.forEach(({ q, state }) => g.set({ queue: q.queue, lab: q.lab, platform: q.platform }, state.backlog)),
    );
    gauge(
      'bootfarm_queue_backlog_age_seconds',
      'How long the oldest task of a lab or build task queue has waited (0 when none waits)',
      ['queue', 'lab', 'platform'],
      (g, s) =>
        s.queues?.forEach(({ q, state }) =>
          g.set({ queue: q.queue, lab: q.lab, platform: q.platform }, state.backlogAgeMs / 1000),
        ),
    );
    gauge('bootfarm_lab_up', '1 while a worker serves the lab, 0 when none does', ['lab'], (g, s) =>
      s.labs?.forEach((l) => g.set({ lab: l.lab }, l.up ? 1 : 0)),
    );
    gauge('bootfarm_lab_offline_seconds', 'How long the lab has had no worker (0 while it has one)', ['lab'], (g, s) =>
      s.labs?.forEach((l) => g.set({ lab: l.lab }, l.offlineSeconds)),
    );
    gauge(
      'bootfarm_lab_offline_grace_seconds',
      "The lab's offlineGrace: boots queued for a lab without a worker for longer are recorded offline",
      ['lab'],
      (g, s) => s.labs?.forEach((l) => g.set({ lab: l.lab }, l.graceSeconds)),
    );
    gauge('bootfarm_regressions_open', 'Regressions not fixed yet, by tree and kind', ['tree', 'kind'], (g, s) =>
      s.regressions?.forEach((r) => g.set({ tree: r.tree, kind: r.kind }, r.n)),
    );
    gauge('bootfarm_bisections_running', 'Bisections running, by tree', ['tree'], (g, s) =>
      s.bisections?.forEach((b) => g.set({ tree: b.tree }, b.n)),
    );
    gauge(
      'bootfarm_bisection_running_longest_seconds',
      'How long the oldest running bisection of a tree has run',
      ['tree'],
      (g, s) => s.bisections?.forEach((b) => g.set({ tree: b.tree }, b.oldest)),
    );
    gauge('bootfarm_revisions_running', 'Revisions being built and booted, by tree', ['tree'], (g, s) =>
      s.revisions?.forEach((r) => g.set({ tree: r.tree }, r.n)),
    );
    const { backlogAlertAge, infraErrorAlertRatio } = opts.config.metrics;
    new Gauge({
      name: 'bootfarm_alert_backlog_age_seconds',
      help: 'Threshold of alert BootfarmBacklogOld (metrics.backlogAlertAge)',
      registers,
    }).set(backlogAlertAge / 1000);
    new Gauge({
      name: 'bootfarm_alert_infra_error_ratio',
      help: 'Threshold of alert BootfarmInfraErrorRate (metrics.infraErrorAlertRatio)',
      registers,
    }).set(infraErrorAlertRatio);
    this.errors = new Counter({
      name: 'bootfarm_metrics_collect_errors_total',
      help: 'Scrapes that could not read a source (temporal, database); its gauges were left out',
      labelNames: ['source'],
      registers,
    });
    for (const source of ['temporal', 'database']) this.errors.inc({ source }, 0);
  }

  /** One snapshot for every gauge of a scrape (and of scrapes within cacheMs of it); one being taken is shared. */
  private read(): Promise<Snapshot> {
    const stale = this.takenAt !== undefined && this.now() - this.takenAt > (this.opts.cacheMs ?? 5_000);
    if (!this.snapshot || stale) {
      this.takenAt = undefined;
      this.snapshot = this.take().finally(() => {
        this.takenAt = this.now();
      });
    }
    return this.snapshot;
  }

  private async take(): Promise<Snapshot> {
    const { sql, client } = this.opts;
    const [queues, db] = await Promise.all([
      Promise.all(this.queues.map(async (q) => ({ q, state: await describeQueue(client, q.queue) }))).catch(() => {
        this.errors.inc({ source: 'temporal' });
        return undefined;
      }),
      Promise.all([
        sql<{ name: string; worker_stopped_at: Date | null }[]>`select name, worker_stopped_at from labs`,
        sql<{ tree: string; kind: string; n: number }[]>`
          select tree, kind, count(*)::int as n from regressions where state <> 'fixed' group by tree, kind`,
        sql<{ tree: string; n: number; oldest: number }[]>`
          select tree, count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as oldest
          from bisections where status = 'running' group by tree`,
        sql<{ tree: string; n: number }[]>`
          select tree, count(*)::int as n from revisions where status = 'running' group by tree`,
      ]).catch(() => {
        this.errors.inc({ source: 'database' });
        return undefined;
      }),
    ]);
    const snapshot: Snapshot = { queues };
    if (db) {
      const [labRows, regressions, bisections, revisions] = db;
      Object.assign(snapshot, { regressions, bisections, revisions });
      if (queues) snapshot.labs = this.labStates(queues, new Map(labRows.map((r) => [r.name, r.worker_stopped_at])));
    }
    return snapshot;
  }

  /**
   * A lab is up while a worker polls one of its queues (a poll is good for a
   * long poll's length) and no operator has stopped its worker since. Offline
   * since: the stop, or the end of the last poll, or — for a lab no worker
   * ever polled lately — since this process first looked.
   */
  private labStates(queues: { q: WatchedQueue; state: QueueState }[], stoppedAt: Map<string, Date | null>): LabState[] {
    const now = this.now();
    return this.opts.config.labs.map((lab) => {
      const polls = queues.filter((x) => x.q.lab === lab.name).map((x) => x.state.lastPoll?.getTime() ?? 0);
      const last = Math.max(0, ...polls);
      const stopped = stoppedAt.get(lab.name) ?? null;
      const { online } = labPresence({ lastPoll: last ? new Date(last) : null, workerStoppedAt: stopped }, 0, now);
      let since: number;
      if (online) since = now;
      else if (stopped && (!last || last <= stopped.getTime() + STOP_POLL_MARGIN_MS)) since = stopped.getTime();
      else if (last) since = last + SILENCE_MS;
      else since = this.unseenSince.get(lab.name) ?? now;
      if (!online && !last && !stopped && !this.unseenSince.has(lab.name)) this.unseenSince.set(lab.name, now);
      if (online) this.unseenSince.delete(lab.name);
      return {
        lab: lab.name,
        up: online,
        offlineSeconds: Math.max(0, (now - since) / 1000),
        graceSeconds: lab.offlineGrace / 1000,
      };
    });
  }
}
