/**
 * The real-Linux demo's story, driven like stack/demoRun.ts drives the
 * fixture demo: a pipeline of the good head (both arches build and boot),
 * the regression pushed, a pipeline of the bad head (x86_64 panics), and the
 * bisection the pipeline starts for it. A second `up` finds the story told.
 */
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../domain/config';
import { workflowIds } from '../domain/ids';
import { triggerRevision } from '../plumbing/temporal/triggers';
import { outcome } from '../stack/demo';
import type { progress } from '../stack/progress';
import { BUILD_CONFIG_NAMES, PLATFORM_NAMES, REAL_LINUX_TREE } from './config';
import type { RealLinuxDemo } from './demo';

type Progress = ReturnType<typeof progress>;

async function started(client: Client, workflowId: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => true,
          () => false,
        )
    )
      return true;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return false;
}

/**
 * Resolves true when every step ended as the story says. `config` is the
 * merged config (mergeConfigSlice(config, demo)) the workers run with.
 */
export async function runRealLinuxDemo(
  client: Client,
  config: BootfarmConfig,
  demo: RealLinuxDemo,
  p: Progress,
): Promise<boolean> {
  try {
    if (demo.stage === 'bad') {
      p.info('real-linux demo: already told; see the dashboard (the schedule keeps polling the tree)');
      return true;
    }
    const pipeline = async (label: string) => {
      const r = await triggerRevision(client, config, { tree: REAL_LINUX_TREE, branch: 'master' });
      p.info(`real-linux demo: ${label}: pipeline ${r.workflowId}${r.started ? '' : ' (already started)'}`);
      return p.step(
        `real-linux demo: ${label}: building and booting real kernels (a first build takes many minutes)`,
        () => outcome(client, r.workflowId),
      );
    };
    if ((await pipeline('before the regression')) === undefined) return false;
    const bad = await demo.pushRegression();
    p.info(`real-linux demo: pushed ${bad.slice(0, 12)}: its history injects a panic into x86_64's early init`);
    if ((await pipeline('the regression')) === undefined) return false;
    const bisectId = workflowIds.bisect(REAL_LINUX_TREE, bad, BUILD_CONFIG_NAMES.x86_64, PLATFORM_NAMES.x86_64);
    if (!(await started(client, bisectId, 120_000))) {
      p.info('real-linux demo: no bisection was started for the regression');
      return false;
    }
    const verdict = await p.step(`real-linux demo: bisecting (${bisectId})`, () => outcome(client, bisectId));
    p.info(
      `real-linux demo: bisection result: ${JSON.stringify((verdict as { verdict?: unknown } | undefined)?.verdict)?.slice(0, 300)}`,
    );
    return verdict !== undefined;
  } catch (e) {
    p.info(`real-linux demo failed: ${(e as Error).message}`);
    return false;
  }
}
