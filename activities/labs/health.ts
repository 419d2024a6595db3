/**
 * "Check before dispatch": is anyone serving a lab's task queue? Temporal
 * lists the workers that polled a queue with the time each poll started. A
 * healthy idle worker re-polls only when its long poll expires (about a
 * minute), so a poll is fresh when it started within the lab's grace plus
 * that long-poll interval. A worker busy with all its boots does not poll;
 * it polls again as soon as one ends.
 */
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LabHealthActivities } from '../../domain/activityContracts';

export const LONG_POLL_MS = 70_000;

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

const toMs = (t: Timestamp): number | null =>
  t?.seconds == null ? null : Number(t.seconds.toString()) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);

/** The newest poll start on a task queue's activity side, or null when nobody ever polled it (recently). */
export async function lastActivityPoll(client: Client, taskQueue: string): Promise<Date | null> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const times = (res.pollers ?? []).map((p) => toMs(p.lastAccessTime)).filter((t): t is number => t !== null);
  return times.length ? new Date(Math.max(...times)) : null;
}

/**
 * A stopping worker's last long poll is cancelled, and recorded as it ends:
 * a few milliseconds after the stop, so polls this close to it are its own.
 */
export const STOP_POLL_MARGIN_MS = 2_000;

export interface PollEvidence {
  /** the newest poll start Temporal lists for the queue */
  lastPoll: Date | null;
  /** when an operator stopped the lab's in-process worker (labs.worker_stopped_at) */
  workerStoppedAt?: Date | null;
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
  const fresh = lastPoll !== null && now - lastPoll.getTime() <= graceMs + LONG_POLL_MS;
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
    async labHasPollers({ lab, taskQueue, graceMs }) {
      const last = await lastActivityPoll(client, taskQueue);
      const [row] = sql
        ? await sql<{ worker_stopped_at: Date | null }[]>`select worker_stopped_at from labs where name = ${lab}`
        : [];
      const presence = labPresence({ lastPoll: last, workerStoppedAt: row?.worker_stopped_at }, graceMs, now());
      if (sql) {
        await sql`update labs set health = ${presence.online ? 'online' : 'offline'},
                    last_poll_at = greatest(last_poll_at, ${last})
                  where name = ${lab}`;
      }
      return presence.dispatch;
    },
  } satisfies LabHealthActivities;
}
