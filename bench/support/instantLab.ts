/**
 * A lab that passes every boot, at once (bench/pipeline: orchestration
 * overhead) or after `bootMs` (bench/fairness: boards that are busy for a
 * while). Not a production adapter: a bench hands it to its lab workers for
 * the labs it configures with `adapter: bench`. `onBoot` hears of each boot
 * as a board takes it.
 */
import type { BootRequest, BootResult } from '../../domain/types';
import { bootLogKey, type BootContext, type LabAdapter } from '../../activities/labs/adapter';

export class BenchAdapter implements LabAdapter {
  readonly kind = 'bench';

  constructor(private readonly opts: { bootMs?: number; onBoot?: (req: BootRequest) => void } = {}) {}

  async boot(req: BootRequest, ctx: BootContext): Promise<BootResult> {
    const started = Date.now();
    this.opts.onBoot?.(req);
    if (this.opts.bootMs) await new Promise((r) => setTimeout(r, this.opts.bootMs));
    const text = `bench lab ${req.lab}: ${req.tree} ${req.describe} ${req.configName} on ${req.platform.name}\nBOOTFARM: boot ok (bench, not booted)\n`;
    const log = await ctx.store.put(bootLogKey(req.bootKey), text, { contentType: 'text/plain; charset=utf-8' });
    return {
      status: 'pass',
      platform: req.platform.name,
      lab: req.lab,
      durationMs: Date.now() - started,
      log,
      message: 'bench lab: instant pass',
    };
  }
}
