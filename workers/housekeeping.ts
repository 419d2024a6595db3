/**
 * The sweep a builder or lab worker runs on its own directories
 * (activities/retention/local.ts): once when its workers are created (what a
 * killed predecessor left), then every `retention.localEvery` while any of
 * them runs. One sweep at a time; each logs one line through the workers'
 * logger; a failed sweep is logged and tried again next time.
 */
import { Runtime, type Worker } from '@temporalio/worker';
import type { LocalSweepReport } from '../activities/retention/local';

const ENDED = new Set(['STOPPED', 'FAILED', 'DRAINED']);

export function sweepWhileRunning(
  workers: Worker[],
  what: string,
  everyMs: number,
  sweep: () => Promise<LocalSweepReport>,
): void {
  const log = Runtime.instance().logger;
  let running = false;
  const once = async () => {
    if (running) return;
    running = true;
    const started = Date.now();
    try {
      const r = await sweep();
      log.info(`${what} housekeeping: removed ${r.removed.length}, in use ${r.busy.length}`, {
        removed: r.removed,
        busy: r.busy,
        notes: r.notes,
        durationMs: Date.now() - started,
      });
    } catch (e) {
      log.warn(`${what} housekeeping failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  void once();
  const timer = setInterval(() => {
    // Created and not yet run counts as alive; all of them ended means the process is winding down.
    if (workers.every((w) => ENDED.has(w.getState()))) clearInterval(timer);
    else void once();
  }, everyMs);
  timer.unref();
}
