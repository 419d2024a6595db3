import { Context } from '@temporalio/activity';

/** The running activity's context, or undefined when called outside an activity (a script, a unit test). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Aborts when Temporal cancels the activity (including after a missed heartbeat). */
export function cancellationSignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/**
 * Heartbeat `details()` now, on beat(), and every `everyMs` until stopped, so a builder
 * or a long fetch that is alive is never taken for dead, and a dead one is
 * noticed within the heartbeat timeout. A no-op outside an activity.
 */
export function keepHeartbeating(details: () => unknown, everyMs = 5000): { beat(): void; stop(): void } {
  const ctx = activityContext();
  if (!ctx) return { beat() {}, stop() {} };
  // the SDK throttles heartbeats itself, so an extra beat on news (a new build step) is cheap
  const beat = () => ctx.heartbeat(details());
  beat();
  const timer = setInterval(beat, everyMs);
  return { beat, stop: () => clearInterval(timer) };
}

/**
 * The same activities, each heartbeating while it runs. With a heartbeat
 * timeout on their options, an activity whose completion never reached
 * Temporal (the worker's report lost while the cluster was down) is retried
 * within that timeout, not after its whole start-to-close timeout.
 */
export function heartbeatingWhileRunning<T extends object>(activities: T, everyMs = 5000): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        const heartbeat = keepHeartbeating(() => undefined, everyMs);
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } finally {
          heartbeat.stop();
        }
      },
    ]),
  ) as T;
}
