/**
 * Client-side plumbing of tree monitoring, used by `bootfarm up` and the
 * CLI: one Temporal Schedule per configured tree/branch running
 * `treeMonitor`, the `retention` Schedule, and starting a revision pipeline
 * by hand.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { BootfarmConfig } from '../../domain/config';
import { taskQueues, workflowIds } from '../../domain/ids';
import { SA } from '../../domain/searchAttributes';
import {
  pipelineSpecFor,
  revisionStartOptions,
  type RevisionPipelineInput,
  type TreeMonitorInput,
} from '../../domain/pipelineSpec';
import type { revisionPipeline } from '../../workflows/revisionPipeline';
import type { treeMonitor } from '../../workflows/treeMonitor';
import type { retention } from '../../workflows/retention';
import { RETENTION_SCHEDULE_ID, retentionInputFor, STORE_KINDS } from '../../domain/retention';

export interface MonitorOptions {
  /** where the orchestration workflows run; default `bootfarm` */
  taskQueue?: string;
  buildQueueByArch?: boolean;
  /** prepended to build and lab task queue names (isolated tests, staging) */
  taskQueuePrefix?: string;
}

export interface EnsureSchedulesOptions extends MonitorOptions {
  /** delete `monitor:` schedules on the same task queue whose tree/branch is no longer configured */
  prune?: boolean;
}

export interface EnsureSchedulesResult {
  created: string[];
  updated: string[];
  deleted: string[];
}

const SCHEDULE_PREFIX = workflowIds.schedule('', '').split(':')[0] + ':';

function monitorSchedule(
  cfg: BootfarmConfig,
  tree: string,
  branch: { name: string; interval: number },
  opts: MonitorOptions,
) {
  const input: TreeMonitorInput = pipelineSpecFor(cfg, tree, branch.name, opts);
  const action: ScheduleOptionsStartWorkflowAction<typeof treeMonitor> = {
    type: 'startWorkflow',
    workflowType: 'treeMonitor',
    workflowId: workflowIds.treeMonitor(tree, branch.name),
    taskQueue: opts.taskQueue ?? taskQueues.orchestrator,
    args: [input],
    typedSearchAttributes: [
      { key: SA.tree, value: tree },
      { key: SA.branch, value: branch.name },
      { key: SA.kind, value: 'monitor' },
    ],
    staticSummary: `monitor ${tree}/${branch.name}`,
    staticDetails: `Checks the head of **${branch.name}** of ${input.url} every ${Math.round(branch.interval / 1000)}s and starts a revision pipeline for a new head.`,
  };
  return {
    spec: { intervals: [{ every: branch.interval }] },
    action,
    // A slow ls-remote is never run twice at once; a missed check is not worth catching up on.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 60_000 },
  };
}

/**
 * Create or update one Schedule per configured tree/branch (id
 * `monitor:<tree>:<branch>`). A new schedule runs its first check at once;
 * an existing one keeps its paused state and note (an operator's decision).
 */
export async function ensureTreeSchedules(
  client: Client,
  cfg: BootfarmConfig,
  opts: EnsureSchedulesOptions = {},
): Promise<EnsureSchedulesResult> {
  const result: EnsureSchedulesResult = { created: [], updated: [], deleted: [] };
  const wanted = new Set<string>();
  for (const tree of cfg.trees) {
    for (const branch of tree.branches) {
      const scheduleId = workflowIds.schedule(tree.name, branch.name);
      wanted.add(scheduleId);
      const desired = monitorSchedule(cfg, tree.name, branch, opts);
      const done = await createOrUpdateSchedule(client, scheduleId, desired, { triggerImmediately: true });
      result[done].push(scheduleId);
    }
  }
  if (opts.prune) result.deleted = await pruneSchedules(client, wanted, opts.taskQueue ?? taskQueues.orchestrator);
  return result;
}

type DesiredSchedule = Omit<ScheduleOptions, 'scheduleId' | 'state'>;

/**
 * Create the schedule, or update it in place when it exists: its id is its
 * identity, so a second start never makes a second one. An update keeps the
 * paused state and note (an operator's decision).
 */
async function createOrUpdateSchedule(
  client: Client,
  scheduleId: string,
  desired: DesiredSchedule,
  onCreate: { triggerImmediately?: boolean } = {},
): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create({ scheduleId, ...desired, state: onCreate });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((prev) => ({ ...desired, state: { paused: prev.state.paused, note: prev.state.note } }));
    return 'updated';
  }
}

/**
 * The `retention` Schedule (docs/retention.md): the retention workflow every
 * `retention.every`, with the configured policy as its input, so the Web UI
 * shows what it will remove. Its first run waits one interval: a first start
 * is no time to delete.
 */
export async function ensureRetentionSchedule(
  client: Client,
  cfg: BootfarmConfig,
  opts: Pick<MonitorOptions, 'taskQueue'> = {},
): Promise<'created' | 'updated'> {
  const input = retentionInputFor(cfg.retention);
  const action: ScheduleOptionsStartWorkflowAction<typeof retention> = {
    type: 'startWorkflow',
    workflowType: 'retention',
    workflowId: RETENTION_SCHEDULE_ID,
    taskQueue: opts.taskQueue ?? taskQueues.orchestrator,
    args: [input],
    typedSearchAttributes: [{ key: SA.kind, value: 'retention' }],
    staticSummary: `retention${input.dryRun ? ' (dry run)' : ''}`,
    staticDetails: `Removes ${STORE_KINDS.filter((k) => input.ages[k] !== null)
      .map((k) => `${k} older than ${Math.round((input.ages[k] as number) / 86_400_000)}d`)
      .join(
        ', ',
      )}; keeps the newest ${input.keepRevisions} revisions of every branch and whatever a regression or bisection names.`,
  };
  return createOrUpdateSchedule(client, RETENTION_SCHEDULE_ID, {
    spec: { intervals: [{ every: cfg.retention.every }] },
    action,
    // A sweep never runs twice at once; a missed one is not caught up (the next one removes the same).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 60_000 },
  });
}

async function pruneSchedules(client: Client, keep: Set<string>, taskQueue: string): Promise<string[]> {
  const deleted: string[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(SCHEDULE_PREFIX) || keep.has(s.scheduleId) || s.action?.workflowType !== 'treeMonitor')
      continue;
    const handle = client.schedule.getHandle(s.scheduleId);
    const description = await handle.describe();
    if (description.action.taskQueue !== taskQueue) continue;
    await handle.delete();
    deleted.push(s.scheduleId);
  }
  return deleted;
}

export interface StartRevisionResult {
  workflowId: string;
  /** false when a run with this id exists (running, or completed within retention): nothing was started */
  started: boolean;
}

/** Start a revision pipeline by hand (`bootfarm run`); starting an existing revision again is a no-op unless `input.run` names a forced re-run. */
export async function startRevision(
  client: Client,
  input: RevisionPipelineInput,
  opts: Pick<MonitorOptions, 'taskQueue'> = {},
): Promise<StartRevisionResult> {
  const start = revisionStartOptions(input);
  try {
    await client.workflow.start<typeof revisionPipeline>('revisionPipeline', {
      ...start,
      taskQueue: opts.taskQueue ?? taskQueues.orchestrator,
      args: [input],
    });
    return { workflowId: start.workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId: start.workflowId, started: false };
    throw err;
  }
}

/** A name for a forced re-run (`bootfarm run --force`): distinct per call, valid in a workflow id. */
export function forcedRunName(now: Date = new Date()): string {
  return `force-${now.getTime().toString(36)}`;
}
