/**
 * The task queues whose backlog Bootfarm reports: each lab's board queue
 * (one per lab and platform) and the builders'. Names come from
 * domain/ids.ts's taskQueues, the one place they are written.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { LabConfig } from '../../domain/config';
import { taskQueues } from '../../domain/ids';

export interface WatchedQueue {
  queue: string;
  /** '' for a builders' queue */
  lab: string;
  /** '' for a builders' queue */
  platform: string;
}

export function watchedQueues(
  labs: Pick<LabConfig, 'name' | 'platforms'>[],
  arches: string[],
  prefix = '',
): WatchedQueue[] {
  const out: WatchedQueue[] = [];
  for (const lab of labs)
    for (const p of lab.platforms)
      out.push({ queue: prefix + taskQueues.labPlatform(lab.name, p.name), lab: lab.name, platform: p.name });
  for (const q of new Set([taskQueues.build(), ...arches.map((a) => taskQueues.build(a))]))
    out.push({ queue: prefix + q, lab: '', platform: '' });
  return out;
}

export interface QueueState {
  /** tasks waiting (Temporal's approximate count; the server refreshes it every few seconds) */
  backlog: number;
  /** how long the oldest waiting task has waited, ms */
  backlogAgeMs: number;
  /** the newest poll start of a worker, or null when none polled lately */
  lastPoll: Date | null;
}

type ProtoTime = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
const protoMs = (t: ProtoTime): number | null =>
  t?.seconds == null && !t?.nanos
    ? null
    : Number(t?.seconds?.toString() ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

/** One DescribeTaskQueue of a queue's activity side, with its stats. */
export async function describeQueue(client: Client, queue: string): Promise<QueueState> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportStats: true,
  });
  const polls = (res.pollers ?? []).map((p) => protoMs(p.lastAccessTime)).filter((t): t is number => t !== null);
  const backlog = Number(res.stats?.approximateBacklogCount?.toString() ?? 0);
  return {
    backlog,
    backlogAgeMs: backlog > 0 ? (protoMs(res.stats?.approximateBacklogAge) ?? 0) : 0,
    lastPoll: polls.length ? new Date(Math.max(...polls)) : null,
  };
}
