/**
 * One build of one revision with one build config, then a boot on every
 * target (platform × lab) when the build passed. Each platform of each lab
 * is reached on its own task queue (`lab-<lab>-<platform>`), whose workers
 * take a boot only when a board of that platform is free, with the lab's own
 * timeouts; each boot is awaited on its own, so one lab's outage, or one busy
 * platform, never delays or fails another's results.
 */
import {
  ActivityFailure,
  TimeoutFailure,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState, TimeoutType } from '@temporalio/common';
import type { BuildActivities, LabActivities } from '../domain/activityContracts';
import {
  labAttempts,
  type BootRequest,
  type BootResult,
  type BootTarget,
  type BuildBootInput,
  type BuildBootResult,
  type BuildResult,
} from '../domain/types';
import { buildBootOutcome } from '../domain/revisionReport';
import { withMissedTests } from '../domain/testResults';
import { SA } from '../domain/searchAttributes';
import * as options from './activityOptions';
import { boardQueue, buildQueue, labQueue } from '../domain/pipelineSpec';
import { earlierAttemptReason, failureReason } from './failures';
import { records } from './records';
import { ensureSearchAttributes } from './searchAttributes';
import { boardServed, labChecks } from './labChecks';
import { BOARD_QUEUES_PATCH } from './patches';

const builder = proxyActivities<BuildActivities>(options.build);
// Queue, timeouts and retries are the lab's, given per call.
const labs = proxyActivities<LabActivities>({ startToCloseTimeout: '10 minutes' });

export async function buildBoot(input: BuildBootInput): Promise<BuildBootResult> {
  const { workflowId } = workflowInfo();
  const config = input.config;
  ensureSearchAttributes([
    { key: SA.tree, value: input.tree },
    ...(input.branch ? [{ key: SA.branch, value: input.branch }] : []),
    { key: SA.commit, value: input.sha },
    { key: SA.config, value: config.name },
    { key: SA.kind, value: 'build' },
  ]);
  setCurrentDetails(
    input.prebuilt
      ? `booting the earlier build of ${config.name} (${input.describe})`
      : `building ${config.name} (${input.describe}) on ${buildQueue(input)}`,
  );

  const build = input.prebuilt?.build ?? (await runBuild(input));
  const buildId = await records.recordBuild({
    tree: input.tree,
    sha: input.sha,
    config,
    result: build,
    workflowId,
    ...ownedBy(input),
  });
  let boots: BootResult[] = [];
  if (build.status === 'pass') {
    setCurrentDetails(`build passed; booting on ${input.targets.length} target(s)`);
    boots = await bootAll(input, build, buildId, workflowId);
  }

  const result: BuildBootResult = { config: config.name, arch: config.arch, buildId, build, boots };
  const outcome = buildBootOutcome(result);
  upsertSearchAttributes([{ key: SA.result, value: outcome }]);
  setCurrentDetails(`${outcome}: build ${build.status}${boots.length ? `, boots ${tally(boots)}` : ''}`);
  return result;
}

async function runBuild(input: BuildBootInput): Promise<BuildResult> {
  try {
    return await builder.buildKernel.executeWithOptions(
      { taskQueue: buildQueue(input), summary: `build ${input.config.name}` },
      [
        {
          tree: input.tree,
          url: input.url,
          sha: input.sha,
          describe: input.describe,
          config: input.config,
          ...(input.revert ? { revert: input.revert } : {}),
        },
      ],
    );
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    return {
      status: 'infra-error',
      warnings: 0,
      errors: 0,
      durationMs: 0,
      artifacts: {},
      errorLines: [],
      message: `build did not complete: ${failureReason(err)}`,
    };
  }
}

function bootAll(
  input: BuildBootInput,
  build: BuildResult,
  buildId: number,
  workflowId: string,
): Promise<BootResult[]> {
  const perBoard = patched(BOARD_QUEUES_PATCH);
  const dispatch: BootDispatch = { online: labChecks(input, perBoard), perBoard };
  const runs = Math.max(1, input.runs ?? 1);
  const boots = input.targets.flatMap((target) =>
    Array.from({ length: runs }, async (_, run) => {
      const { result: booted, fromLab } = await bootOne(input, build, target, run, workflowId, dispatch);
      // a boot that failed, or that no lab answered, has its planned tests as MISS
      const result = withMissedTests(booted, target.tests);
      await records.recordBoot({
        buildId,
        tree: input.tree,
        sha: input.sha,
        config: input.config.name,
        arch: input.config.arch,
        run,
        result,
        workflowId,
        fromLab,
        ...ownedBy(input),
      });
      return result;
    }),
  );
  return Promise.all(boots);
}

/** How a run dispatches its boots. */
export interface BootDispatch {
  /** whether the target's queue is served (the check before dispatch) */
  online: (t: BootTarget) => Promise<boolean>;
  /** one queue per (lab, platform); false for runs from before (workflows/patches.ts) */
  perBoard: boolean;
}

/**
 * How long a boot may wait in its queue in all while its platform is served
 * but every board is busy. Each round waits the lab's schedule-to-start
 * (doubling up to 8×, so a long wait costs few history events); a platform
 * found unserved after a round is offline.
 */
export const MAX_BOARD_WAIT_MS = 24 * 3600_000;
const MAX_ROUND_FACTOR = 8;

export async function bootOne(
  input: BuildBootInput,
  build: BuildResult,
  target: BootTarget,
  run: number,
  workflowId: string,
  dispatch: BootDispatch,
): Promise<{ result: BootResult; fromLab: boolean }> {
  const { platform, lab } = target;
  const { perBoard } = dispatch;
  const base = { platform: platform.name, lab: lab.name, durationMs: 0, run };
  const queue = perBoard ? boardQueue(input, lab.name, platform.name) : labQueue(input, lab.name);
  const kernel = build.artifacts.kernel;
  if (!kernel)
    return {
      result: { ...base, status: 'infra-error', message: 'the build passed but stored no kernel image' },
      fromLab: false,
    };
  if (!(await dispatch.online(target))) {
    return {
      result: {
        ...base,
        status: 'offline',
        message: `no worker polled ${queue} within the lab's grace of ${lab.offlineGrace / 1000}s`,
        attempts: 0,
      },
      fromLab: false,
    };
  }
  const dtb = platform.dtb ? build.artifacts[`dtb:${platform.dtb}`] : undefined;
  const req: BootRequest = {
    tree: input.tree,
    branch: input.branch,
    sha: input.sha,
    describe: input.describe,
    configName: input.config.name,
    arch: input.config.arch,
    platform,
    lab: lab.name,
    kernel,
    ...(dtb ? { dtb } : {}),
    timeoutMs: options.bootTimeoutMs(target),
    bootKey: `${workflowId}:${platform.name}:${lab.name}${run ? `:${run}` : ''}`,
    ...(target.tests ? { tests: target.tests } : {}),
  };
  const activity = {
    ...options.boot(target),
    taskQueue: queue,
    summary: `boot ${platform.name} on ${lab.name}${run ? ` (run ${run})` : ''}`,
    ...(perBoard && input.bootPriority ? { priority: input.bootPriority } : {}),
  };
  let waitedMs = 0;
  // what ended an attempt that ran (a worker that died mid-boot), kept across the rounds that follow it
  let earlier: string | undefined;
  for (let round = 0; ; round++) {
    const waitMs = lab.scheduleToStartTimeout * (perBoard ? Math.min(2 ** round, MAX_ROUND_FACTOR) : 1);
    try {
      const result = await labs.bootKernel.executeWithOptions({ ...activity, scheduleToStartTimeout: waitMs }, [req]);
      return { result: { ...result, platform: platform.name, lab: lab.name, run }, fromLab: true };
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      waitedMs += waitMs;
      if (isScheduleToStartTimeout(err)) earlier ??= earlierAttemptReason(err.cause);
      // Served, but no board of the kind was free: the boot waits on, in a new place in the queue.
      const busy =
        perBoard &&
        lab.adapter !== 'api' &&
        isScheduleToStartTimeout(err) &&
        waitedMs < MAX_BOARD_WAIT_MS &&
        (await boardServed(input, lab, platform.name).catch(() => true));
      if (busy) continue;
      return { result: failedBoot(err, target, base, { perBoard, waitedMs, earlier }), fromLab: false };
    }
  }
}

/** A bisection's child records apart from the revision's rows (BuildBootInput.bisection). */
function ownedBy(input: BuildBootInput): { bisection?: string } {
  return input.bisection ? { bisection: input.bisection } : {};
}

/** A boot the lab did not answer: offline when nobody took it, else infra-error. */
function failedBoot(
  err: ActivityFailure,
  { lab, platform }: BootTarget,
  base: Pick<BootResult, 'platform' | 'lab' | 'durationMs' | 'run'>,
  wait: { perBoard: boolean; waitedMs: number; earlier?: string },
): BootResult {
  if (lab.adapter === 'api' && err.cause instanceof TimeoutFailure)
    return { ...base, status: 'offline', message: `api lab ${lab.name} posted no result in time`, attempts: 0 };
  if (isScheduleToStartTimeout(err)) {
    // A retry nobody took (the worker of the attempt before died mid-boot) ran at least once: the record's
    // default attempts, 1. An untaken first attempt never ran.
    const earlier = earlierAttemptReason(err.cause) ?? wait.earlier;
    const taken = !wait.perBoard
      ? `no worker of lab ${lab.name} took the boot within ${lab.scheduleToStartTimeout / 1000}s`
      : wait.waitedMs >= MAX_BOARD_WAIT_MS
        ? `every board of ${platform.name} in lab ${lab.name} stayed busy for ${Math.round(wait.waitedMs / 3600_000)}h`
        : `no board of ${platform.name} in lab ${lab.name} took the boot within ${Math.round(wait.waitedMs / 1000)}s, and no worker serves it now`;
    const outcome = earlier
      ? { message: `${taken} after an attempt ended in ${earlier}` }
      : { message: taken, attempts: 0 };
    return { ...base, status: 'offline', ...outcome };
  }
  const exhausted = err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED;
  const message = exhausted
    ? `boot did not complete in ${labAttempts(lab)} attempt(s): ${failureReason(err)}`
    : `boot could not run: ${failureReason(err)}`;
  return { ...base, status: 'infra-error', message, ...(exhausted ? { attempts: labAttempts(lab) } : {}) };
}

function isScheduleToStartTimeout(err: ActivityFailure): err is ActivityFailure & { cause: TimeoutFailure } {
  return err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

function tally(boots: BootResult[]): string {
  const n = new Map<string, number>();
  for (const b of boots) n.set(b.status, (n.get(b.status) ?? 0) + 1);
  return [...n].map(([s, c]) => `${c} ${s}`).join(', ');
}
