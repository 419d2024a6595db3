/**
 * Per-platform capacity inside one lab worker: a lab with two boards of one
 * kind never runs three boots on it, whatever else the worker is doing.
 */
export class PlatformSlots {
  private readonly free = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(readonly capacity: Record<string, number>) {
    for (const [platform, n] of Object.entries(capacity)) this.free.set(platform, n);
  }

  /** Resolves when a board of `platform` is free; the returned function gives it back (once). */
  async acquire(platform: string, signal?: AbortSignal): Promise<() => void> {
    const free = this.free.get(platform);
    if (free === undefined) throw new Error(`this lab has no platform ${JSON.stringify(platform)}`);
    if (free > 0) this.free.set(platform, free - 1);
    else {
      // The slot is handed over directly by release(), so free stays at 0.
      await new Promise<void>((resolve, reject) => {
        const queue = this.waiting.get(platform) ?? [];
        queue.push(resolve);
        this.waiting.set(platform, queue);
        signal?.addEventListener('abort', () => {
          const i = queue.indexOf(resolve);
          if (i >= 0) queue.splice(i, 1);
          reject(signal.reason ?? new Error('cancelled'));
        });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(platform)?.shift();
      if (next) next();
      else this.free.set(platform, (this.free.get(platform) ?? 0) + 1);
    };
  }

  /** Boots running on `platform` now. */
  inUse(platform: string): number {
    return (this.capacity[platform] ?? 0) - (this.free.get(platform) ?? 0);
  }
}
