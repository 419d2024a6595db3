/**
 * Watches what a running service depends on (PostgreSQL, Temporal, S3) and
 * logs each change of state once: "unreachable" when a probe first fails,
 * "reachable again" when one first succeeds after that — never one line per
 * retry. While a dependency is down the service keeps running: Temporal's
 * worker retries its polls by itself, a failed activity is retried by
 * Temporal, the database pool reconnects on its next query, and the
 * dashboard answers 503 for what it cannot read. The watch probes with
 * backoff while a dependency is down, so it costs little during a long
 * outage and notices the return within `maxBackoffMs`.
 */
import { reason, type ServiceLog } from './serviceLog';

export interface Dependency {
  /** how log lines name it, e.g. "PostgreSQL at postgres://bootfarm:***@10.0.0.2:5432/bootfarm" */
  name: string;
  /** resolves when it answers; rejects with why not */
  probe(): Promise<unknown>;
}

export interface DependencyWatchOptions {
  log: ServiceLog;
  /** time between probes while it is up (default 5 s) */
  intervalMs?: number;
  /** first wait after a failure, doubled up to maxBackoffMs (defaults 1 s, 15 s) */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** a probe that takes longer has failed (default 5 s) */
  probeTimeoutMs?: number;
}

interface State {
  up: boolean;
  since: number;
  timer?: NodeJS.Timeout;
  backoff: number;
}

export class DependencyWatch {
  private readonly states = new Map<string, State>();
  private stopped = false;
  private readonly opts: Required<DependencyWatchOptions>;

  constructor(
    private readonly deps: Dependency[],
    opts: DependencyWatchOptions,
  ) {
    this.opts = { intervalMs: 5000, minBackoffMs: 1000, maxBackoffMs: 15_000, probeTimeoutMs: 5000, ...opts };
  }

  /** Begin watching; every dependency is taken to be up (the service checked each at start). */
  start(): this {
    for (const d of this.deps) {
      const state: State = { up: true, since: Date.now(), backoff: this.opts.minBackoffMs };
      this.states.set(d.name, state);
      this.schedule(d, state, this.opts.intervalMs);
    }
    return this;
  }

  /** The dependencies that are down now. */
  down(): string[] {
    return [...this.states].filter(([, s]) => !s.up).map(([name]) => name);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) clearTimeout(s.timer);
  }

  private schedule(d: Dependency, state: State, ms: number): void {
    if (this.stopped) return;
    state.timer = setTimeout(() => void this.check(d, state), ms);
    state.timer.unref();
  }

  private async check(d: Dependency, state: State): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        d.probe(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.opts.probeTimeoutMs / 1000}s`)),
            this.opts.probeTimeoutMs,
          );
        }),
      ]);
      if (!state.up && !this.stopped)
        this.opts.log(`${d.name} reachable again after ${Math.round((Date.now() - state.since) / 1000)}s`);
      if (!state.up) Object.assign(state, { up: true, since: Date.now(), backoff: this.opts.minBackoffMs });
      this.schedule(d, state, this.opts.intervalMs);
    } catch (e) {
      if (state.up && !this.stopped) {
        this.opts.log(
          `${d.name} unreachable: ${reason(e)}; waiting for it to come back (work that needs it is retried)`,
        );
        Object.assign(state, { up: false, since: Date.now() });
      }
      this.schedule(d, state, state.backoff);
      state.backoff = Math.min(state.backoff * 2, this.opts.maxBackoffMs);
    } finally {
      clearTimeout(timer);
    }
  }
}
