/**
 * What every lab adapter (QEMU, LAVA, shell, API) implements. An adapter
 * boots one kernel on one platform and returns the verdict: a kernel that
 * does not boot is a result (`status: 'fail'`), while an exception means the
 * lab itself failed (missing tool, unreachable lab, unreadable artifact) and
 * the boot may be retried.
 */
import type { ArtifactStore } from '../../plumbing/store/types';
import type { BootRequest, BootResult } from '../../domain/types';

export interface BootContext {
  store: ArtifactStore;
  /** scratch space of this worker; an adapter makes its own subdirectory and removes it */
  workDir: string;
  /** liveness (and small progress details) for the activity's heartbeat timeout */
  heartbeat(details?: unknown): void;
  /** aborted when the boot is cancelled: stop the board, then throw */
  signal: AbortSignal;
  /** operator-facing progress lines (not the console log) */
  log: (line: string) => void;
  /**
   * The last heartbeat details of the previous attempt of this boot, when a
   * worker died during it: an adapter whose lab keeps running jobs without
   * the worker (LAVA) re-attaches instead of starting the boot again.
   */
  resumed?: unknown;
}

export interface LabAdapter {
  readonly kind: string;
  boot(req: BootRequest, ctx: BootContext): Promise<BootResult>;
}

/** Where the console log of a boot is stored: one key per boot, so a retry overwrites its own log only. */
export function bootLogKey(bootKey: string): string {
  const segment = bootKey.replace(/[^A-Za-z0-9._+=@:-]/g, '_').replace(/\.{2,}/g, '_');
  if (!segment || segment === '.') throw new Error(`invalid bootKey ${JSON.stringify(bootKey)}`);
  return `boots/${segment.slice(0, 400)}/console.log`;
}

/** The directory of a boot's own files (its console log, what its lab stored beside it), for a key bootLogKey made; else null. */
export function bootLogDir(logKey: string): string | null {
  const m = /^(boots\/[^/]+\/)console\.log$/.exec(logKey);
  return m ? m[1] : null;
}

/** Thrown once the adapter has stopped the board because the boot was cancelled. */
export function cancellationError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('boot cancelled');
}
