/**
 * Timeouts and retry policies of the pipeline's activities, in one place so
 * that what "an infrastructure error is retried" means can be read at once.
 */
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { labAttempts, type BootTarget } from '../domain/types';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Database and Temporal bookkeeping: retried until the service is back (an outage delays a run, never loses a result). */
export const bookkeeping: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
};

/**
 * The same bookkeeping as a local activity, run by the orchestrator worker
 * that runs the workflow: recording a result then costs no task-queue round
 * trip through the server. Same retries; backoffs past a minute wait on a
 * workflow timer, so an outage still only delays the run.
 */
export const localBookkeeping: LocalActivityOptions = {
  startToCloseTimeout: bookkeeping.startToCloseTimeout,
  retry: bookkeeping.retry,
};

/**
 * git metadata: a fetch of a large tree into the mirror can take long the
 * first time. The orchestrator heartbeats while these run
 * (workers/orchestrator.ts): an activity whose completion was lost (the
 * whole Temporal cluster down as it finished) is retried within the
 * heartbeat timeout instead of an hour later. Options are not part of a
 * history's replay: running workflows take them at their next schedule.
 */
export const gitMetadata: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 5,
    nonRetryableErrorTypes,
  },
};

/**
 * A build: the builder heartbeats, so a dead builder is noticed within a
 * minute and the build is retried, on whichever builder polls next. A cold
 * Linux build takes ~10 min here; start-to-close leaves room for big
 * configs on slow builders. Waiting in the queue for a free builder is
 * normal, bounded only by schedule-to-close.
 */
export const build: ActivityOptions = {
  heartbeatTimeout: '1 minute',
  startToCloseTimeout: '3 hours',
  scheduleToCloseTimeout: '24 hours',
  retry: {
    initialInterval: '15 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 4,
    nonRetryableErrorTypes,
  },
};

/**
 * What a boot may take beyond its boot timeout: fetching the kernel,
 * starting the VM or job, storing the log. Generous by default, because a
 * boot cut short here ends as infra-error where the lab would have
 * reported the kernel's hang as a failure.
 */
export function bootMarginMs(target: BootTarget, timeoutMs: number): number {
  return target.lab.bootMargin ?? 30_000 + Math.ceil(timeoutMs / 4);
}

export function bootTimeoutMs(target: BootTarget): number {
  return target.platform.bootTimeout ?? target.lab.bootTimeout;
}

/** The whole boot session: the boot, then the tests of its plans (which run after the marker, in the same session). */
export function sessionTimeoutMs(target: BootTarget): number {
  return bootTimeoutMs(target) + (target.tests?.timeoutMs ?? 0);
}

const bootRetry = (target: BootTarget): RetryPolicy => ({
  maximumAttempts: labAttempts(target.lab),
  initialInterval: '5 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes,
});

/**
 * A boot, with the lab's own settings: not picked up within the lab's
 * schedule-to-start timeout → offline (Temporal does not retry that);
 * killed or hung (no heartbeat within the lab's heartbeatTimeout) →
 * retried up to the lab's retries, then infra-error; a retry that no
 * worker of the lab takes within schedule-to-start → offline.
 * Lab workers heartbeat while they hold a boot; an `api` lab's boot is
 * completed from outside by the lab's post, so nothing heartbeats it, and
 * the lab's own pick-up wait happens inside the activity.
 */
export function boot(target: BootTarget): ActivityOptions {
  const timeout = sessionTimeoutMs(target);
  const api = target.lab.adapter === 'api';
  return {
    scheduleToStartTimeout: target.lab.scheduleToStartTimeout,
    // an api lab's job also waits for the lab to fetch it, within the same schedule-to-start allowance
    startToCloseTimeout: timeout + bootMarginMs(target, timeout) + (api ? target.lab.scheduleToStartTimeout : 0),
    // a run started before labs had a heartbeatTimeout setting keeps the minute it had
    ...(api ? {} : { heartbeatTimeout: target.lab.heartbeatTimeout ?? '1 minute' }),
    // An api lab that does not answer in time is offline; asking it again would only hand it a second job.
    retry: api ? { maximumAttempts: 1 } : bootRetry(target),
  };
}

/**
 * Asking Temporal about a lab's pollers, a local activity of the
 * orchestrator: quick; when it cannot answer, the boot is dispatched anyway.
 */
export const labHealth: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
};

/** Waiting for a buildBoot run that another starter owns: as long as that run takes; heartbeats meanwhile. */
export const awaitWorkflow: ActivityOptions = {
  heartbeatTimeout: '1 minute',
  startToCloseTimeout: '2 days',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', nonRetryableErrorTypes },
};
