/**
 * `bootfarm try`: one boot of a developer's own kernel (uploaded to the
 * artifact store, checked by its header before this starts) on a lab's
 * platform, through the same lab adapters and task queues as the
 * pipeline's boots, with the test plan the developer named. No build, no
 * records, no report: the result goes back to the developer.
 */
import {
  ActivityFailure,
  TimeoutFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { LabActivities } from '../domain/activityContracts';
import type { BootRequest, BootResult } from '../domain/types';
import type { TryInput, TryResult } from '../domain/tryRun';
import { labQueue } from '../domain/pipelineSpec';
import { withMissedTests } from '../domain/testResults';
import * as options from './activityOptions';
import { failureReason } from './failures';

// Queue, timeouts and retries are the lab's, given per call.
const labs = proxyActivities<LabActivities>({ startToCloseTimeout: '10 minutes' });

export async function tryKernel(input: TryInput): Promise<TryResult> {
  const { workflowId } = workflowInfo();
  const { target } = input;
  const { platform, lab } = target;
  setCurrentDetails(`booting ${input.developer}'s kernel on ${platform.name} in lab ${lab.name}`);
  const req: BootRequest = {
    tree: 'try',
    // a try has no commit: the kernel's digest stands for it
    sha: input.kernelSha256.slice(0, 40),
    describe: `try by ${input.developer}`,
    configName: 'try',
    arch: input.arch,
    platform,
    lab: lab.name,
    kernel: input.kernel,
    ...(input.ramdisk ? { ramdisk: input.ramdisk } : {}),
    ...(input.dtb ? { dtb: input.dtb } : {}),
    timeoutMs: options.bootTimeoutMs(target),
    bootKey: workflowId,
    ...(target.tests ? { tests: target.tests } : {}),
  };
  let boot: BootResult;
  try {
    boot = await labs.bootKernel.executeWithOptions(
      { ...options.boot(target), taskQueue: labQueue(input, lab.name), summary: `try on ${platform.name}` },
      [req],
    );
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    const untaken =
      err.cause instanceof TimeoutFailure &&
      (err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START || lab.adapter === 'api');
    boot = {
      platform: platform.name,
      lab: lab.name,
      durationMs: 0,
      ...(untaken
        ? { status: 'offline', message: `lab ${lab.name} did not take the boot in time` }
        : { status: 'infra-error', message: `boot could not run: ${failureReason(err)}` }),
    };
  }
  boot = withMissedTests(boot, target.tests);
  setCurrentDetails(`${boot.status}: ${boot.message}`);
  return { developer: input.developer, platform: platform.name, lab: lab.name, boot };
}
