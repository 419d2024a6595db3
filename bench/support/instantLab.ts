/**
 * A lab that passes every boot at once, for measuring orchestration overhead
 * (bench/pipeline). Not a production adapter: a bench hands it to its lab
 * workers for the labs it configures with `adapter: bench`.
 */
import type { BootRequest, BootResult } from '../../domain/types';
import { bootLogKey, type BootContext, type LabAdapter } from '../../activities/labs/adapter';

export class BenchAdapter implements LabAdapter {
  readonly kind = 'bench';

  async boot(req: BootRequest, ctx: BootContext): Promise<BootResult> {
    const started = Date.now();
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
