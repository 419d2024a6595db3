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
import type { LabHealthActivities } from '../common/activityContracts';

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
      const online = last !== null && now() - last.getTime() <= graceMs + LONG_POLL_MS;
      if (sql) {
        await sql`update labs set health = ${online ? 'online' : 'offline'},
                    last_poll_at = greatest(last_poll_at, ${last})
                  where name = ${lab}`;
      }
      return online;
    },
  } satisfies LabHealthActivities;
}
