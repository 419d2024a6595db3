/**
 * One build of one revision with one build config, then a boot on every
 * target (platform × lab) when the build passed. Each lab is reached on its
 * own task queue with its own timeouts, and each boot is awaited on its own,
 * so one lab's outage never delays or fails another lab's results.
 */
import {
  ActivityFailure,
  TimeoutFailure,
  isCancellation,
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
import { SA } from '../domain/searchAttributes';
import * as options from './activityOptions';
import { buildQueue, labQueue } from '../domain/pipelineSpec';
import { earlierAttemptReason, failureReason } from './failures';
import { records } from './records';
import { ensureSearchAttributes } from './searchAttributes';
import { labChecks } from './labChecks';

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
  const labOnline = labChecks(input);
  const runs = Math.max(1, input.runs ?? 1);
  const boots = input.targets.flatMap((target) =>
    Array.from({ length: runs }, async (_, run) => {
      const { result, fromLab } = await bootOne(input, build, target, run, workflowId, labOnline);
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

export async function bootOne(
  input: BuildBootInput,
  build: BuildResult,
  target: BootTarget,
  run: number,
  workflowId: string,
  labOnline: (t: BootTarget) => Promise<boolean>,
): Promise<{ result: BootResult; fromLab: boolean }> {
  const { platform, lab } = target;
  const base = { platform: platform.name, lab: lab.name, durationMs: 0, run };
  const queue = labQueue(input, lab.name);
  const kernel = build.artifacts.kernel;
  if (!kernel)
    return {
      result: { ...base, status: 'infra-error', message: 'the build passed but stored no kernel image' },
      fromLab: false,
    };
  if (!(await labOnline(target))) {
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
  };
  try {
    const result = await labs.bootKernel.executeWithOptions(
      {
        ...options.boot(target),
        taskQueue: queue,
        summary: `boot ${platform.name} on ${lab.name}${run ? ` (run ${run})` : ''}`,
      },
      [req],
    );
    return { result: { ...result, platform: platform.name, lab: lab.name, run }, fromLab: true };
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    if (lab.adapter === 'api' && err.cause instanceof TimeoutFailure) {
      return {
        result: { ...base, status: 'offline', message: `api lab ${lab.name} posted no result in time`, attempts: 0 },
        fromLab: false,
      };
    }
    if (isScheduleToStartTimeout(err)) {
      // A retry nobody took (the worker of the attempt before died mid-boot) ran at least once: the record's
      // default attempts, 1. An untaken first attempt never ran.
      const earlier = earlierAttemptReason(err.cause);
      const taken = `no worker of lab ${lab.name} took the boot within ${lab.scheduleToStartTimeout / 1000}s`;
      const outcome = earlier
        ? { message: `${taken} after an attempt ended in ${earlier}` }
        : { message: taken, attempts: 0 };
      return { result: { ...base, status: 'offline', ...outcome }, fromLab: false };
    }
    const exhausted = err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED;
    const message = exhausted
      ? `boot did not complete in ${labAttempts(lab)} attempt(s): ${failureReason(err)}`
      : `boot could not run: ${failureReason(err)}`;
    return {
      result: { ...base, status: 'infra-error', message, ...(exhausted ? { attempts: labAttempts(lab) } : {}) },
      fromLab: false,
    };
  }
}

/** A bisection's child records apart from the revision's rows (BuildBootInput.bisection). */
function ownedBy(input: BuildBootInput): { bisection?: string } {
  return input.bisection ? { bisection: input.bisection } : {};
}

function isScheduleToStartTimeout(err: ActivityFailure): err is ActivityFailure & { cause: TimeoutFailure } {
  return err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

function tally(boots: BootResult[]): string {
  const n = new Map<string, number>();
  for (const b of boots) n.set(b.status, (n.get(b.status) ?? 0) + 1);
  return [...n].map(([s, c]) => `${c} ${s}`).join(', ');
}
