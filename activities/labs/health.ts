/**
 * "Check before dispatch": does a worker serve a board queue (one platform
 * of one lab, `lab-<lab>-<platform>`)? Two kinds of evidence, from Temporal:
 *
 *  - polls: Temporal lists the workers that polled a queue with the time each
 *    poll started. A healthy idle worker re-polls when its long poll expires
 *    (about a minute). A worker whose boards are all busy does not poll at
 *    all: it takes exactly as many boots as it has boards.
 *  - worker heartbeats: workers report themselves every minute whether they
 *    poll or not (SDK 1.24 with a server ≥ 1.29, ListWorkers); a running
 *    worker busy with every board is seen here. A server without the API
 *    gives none, and polls alone decide.
 *
 * Either is fresh within the platform's grace plus SILENCE_MS. An operator's
 * stop of the in-process lab worker (labs.worker_stopped_at) is exact and
 * outranks both.
 */
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LabHealthActivities } from '../../domain/activityContracts';
import { labHealthOf } from '../../domain/labWorker';

export { labHealthOf } from '../../domain/labWorker';

/** How long a healthy worker may be silent: its long poll (~60 s) or worker heartbeat interval (60 s), plus margin. */
export const SILENCE_MS = 70_000;

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

const toMs = (t: Timestamp): number | null =>
  t?.seconds == null ? null : Number(t.seconds.toString()) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);

const newest = (times: (number | null)[]): Date | null => {
  const known = times.filter((t): t is number => t !== null);
  return known.length ? new Date(Math.max(...known)) : null;
};

/** The newest poll start on a task queue's activity side, or null when nobody ever polled it (recently). */
export async function lastActivityPoll(client: Client, taskQueue: string): Promise<Date | null> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return newest((res.pollers ?? []).map((p) => toMs(p.lastAccessTime)));
}

/** A worker of a board queue as its last heartbeat to Temporal described it. */
export interface QueueWorker {
  identity: string;
  running: boolean;
  heartbeatAt: Date | null;
  /** boots it runs now (its busy boards) */
  busy: number;
  /** boots it could take now (its free boards) */
  free: number;
}

const WorkerStatus = temporal.api.enums.v1.WorkerStatus;

/** The workers that last reported themselves on `taskQueue`; null when the server cannot tell (no ListWorkers). */
export async function queueWorkers(client: Client, taskQueue: string): Promise<QueueWorker[] | null> {
  let res: temporal.api.workflowservice.v1.IListWorkersResponse;
  try {
    res = await client.workflowService.listWorkers({
      namespace: client.options.namespace,
      pageSize: 100,
      query: `TaskQueue = ${JSON.stringify(taskQueue)}`,
    });
  } catch (err) {
    // gRPC UNIMPLEMENTED (12): a server from before worker heartbeats
    if ((err as { code?: number }).code === 12) return null;
    throw err;
  }
  return (res.workersInfo ?? []).flatMap((w) => {
    const hb = w.workerHeartbeat;
    if (!hb || hb.taskQueue !== taskQueue) return [];
    return [
      {
        identity: hb.workerIdentity ?? '',
        running: hb.status === WorkerStatus.WORKER_STATUS_RUNNING,
        heartbeatAt: newest([toMs(hb.heartbeatTime)]),
        busy: hb.activityTaskSlotsInfo?.currentUsedSlots ?? 0,
        free: hb.activityTaskSlotsInfo?.currentAvailableSlots ?? 0,
      },
    ];
  });
}

/** The newest sign that a worker serves `taskQueue`: a poll, or a heartbeat of a running worker. */
export async function lastSignOfWorker(client: Client, taskQueue: string): Promise<Date | null> {
  const [poll, workers] = await Promise.all([lastActivityPoll(client, taskQueue), queueWorkers(client, taskQueue)]);
  return newest([
    poll?.getTime() ?? null,
    ...(workers ?? []).filter((w) => w.running).map((w) => w.heartbeatAt?.getTime() ?? null),
  ]);
}

/**
 * A stopping worker's last long poll is cancelled, and recorded as it ends:
 * a few milliseconds after the stop, so polls this close to it are its own.
 */
export const STOP_POLL_MARGIN_MS = 2_000;

export interface PollEvidence {
  /** the newest sign of a worker on the queue (lastSignOfWorker) */
  lastPoll: Date | null;
  /** when an operator stopped the lab's in-process worker (labs.worker_stopped_at) */
  workerStoppedAt?: Date | null;
}

/** The stop that counts for a platform: the later of its lab's (bootfarm lab stop) and its own (--platform). */
export function laterStop(...stops: (Date | null | undefined)[]): Date | null {
  const known = stops.filter((d): d is Date => d instanceof Date);
  return known.length ? new Date(Math.max(...known.map((d) => d.getTime()))) : null;
}

export interface LabPresence {
  /** a worker serves the queue now, as far as can be told */
  online: boolean;
  /** boots may still be queued for it: online, or without a worker for no longer than its grace */
  dispatch: boolean;
}

export function labPresence(evidence: PollEvidence, graceMs: number, now: number): LabPresence {
  const { lastPoll, workerStoppedAt } = evidence;
  if (workerStoppedAt && (!lastPoll || lastPoll.getTime() <= workerStoppedAt.getTime() + STOP_POLL_MARGIN_MS)) {
    return { online: false, dispatch: now - workerStoppedAt.getTime() <= graceMs };
  }
  const fresh = lastPoll !== null && now - lastPoll.getTime() <= graceMs + SILENCE_MS;
  return { online: fresh, dispatch: fresh };
}

export function createLabHealthActivities({
  client,
  sql,
  now = () => Date.now(),
}: {
  client: Client;
  sql?: Sql;
  now?: () => number;
}) {
  return {
    async labHasPollers({ lab, platform, taskQueue, graceMs }) {
      const [seen, [row]] = await Promise.all([
        // a run from before the per-platform queues asks about lab-<lab>, which only polls could serve
        platform ? lastSignOfWorker(client, taskQueue) : lastActivityPoll(client, taskQueue),
        sql
          ? sql<{ lab_stopped: Date | null; platform_stopped: Date | null }[]>`
              select l.worker_stopped_at as lab_stopped, p.worker_stopped_at as platform_stopped
              from labs l left join lab_platforms p on p.lab = l.name and p.platform = ${platform ?? ''}
              where l.name = ${lab}`
          : Promise.resolve([]),
      ]);
      const workerStoppedAt = laterStop(row?.lab_stopped, row?.platform_stopped);
      const presence = labPresence({ lastPoll: seen, workerStoppedAt }, graceMs, now());
      const health = presence.online ? 'online' : 'offline';
      if (sql && platform) {
        await sql.begin(async (tx) => {
          await tx`insert into lab_platforms (lab, platform, health, last_seen_at, checked_at)
                   select ${lab}, ${platform}, ${health}, ${seen}, now() where exists (select 1 from labs where name = ${lab})
                   on conflict (lab, platform) do update set health = excluded.health, checked_at = now(),
                     last_seen_at = greatest(lab_platforms.last_seen_at, excluded.last_seen_at)`;
          const states = await tx<{ health: string }[]>`select health from lab_platforms where lab = ${lab}`;
          await tx`update labs set health = ${labHealthOf(states.map((s) => s.health))},
                     last_poll_at = greatest(last_poll_at, ${seen}) where name = ${lab}`;
        });
      } else if (sql) {
        await sql`update labs set health = ${health}, last_poll_at = greatest(last_poll_at, ${seen}) where name = ${lab}`;
      }
      return presence.dispatch;
    },
  } satisfies LabHealthActivities;
}
