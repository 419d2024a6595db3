/**
 * What the pipeline workflow tests share: a small but real config (two labs,
 * two x86_64 platforms, several build configs), and stand-ins for the build
 * and lab activities whose behaviour each test chooses. Stand-ins are only
 * for the workflows' own logic; the recording activities stay real.
 *
 * Lab timeouts are seconds: the time-skipping server skips timers and retry
 * backoff, but not activity timeouts (time is locked while an activity is
 * scheduled), so those run in real time.
 */
import { Context } from '@temporalio/activity';
import type { Sql } from 'postgres';
import { createRegressionActivities } from '../../activities/report/regressions';
import type { RevisionReportRequest, SendResult } from '../../domain/reports';
import { parseConfig } from '../../plumbing/loadConfig';
import type { BootRequest, BootResult, BuildBootInput, BuildRequest, BuildResult } from '../../domain/types';
import { boardQueue, bootTargets, pipelineSpecFor, type RevisionPipelineInput } from '../../domain/pipelineSpec';

export const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

export interface TestConfigOptions {
  tree?: string;
  url?: string;
  /** YAML of the tree's branches list */
  branches?: string;
  labs?: [string, string];
  configs?: number;
  concurrency?: number;
  attempts?: number;
}

export function testConfig(opts: TestConfigOptions = {}) {
  const tree = opts.tree ?? 'demo';
  const [labA, labB] = opts.labs ?? ['qemu-a', 'qemu-b'];
  const configs = Array.from({ length: opts.configs ?? 1 }, (_, i) => `x86_64-cfg${i}`);
  return parseConfig(`
trees:
  - name: ${tree}
    url: ${opts.url ?? `/srv/git/${tree}.git`}
    branches: ${opts.branches ?? '[master]'}
    buildConfigs: [${configs.join(', ')}]
    concurrency: ${opts.concurrency ?? 8}
buildConfigs:
${configs.map((c) => `  - { name: ${c}, arch: x86_64, defconfig: defconfig }`).join('\n')}
  - { name: arm64-defconfig, arch: arm64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, bootTimeout: 2s }
  - { name: pc-x86_64, arch: x86_64 }
  - { name: qemu-arm64, arch: arm64 }
labs:
  - { name: ${labA}, adapter: qemu, platforms: [qemu-x86_64, pc-x86_64, qemu-arm64], scheduleToStartTimeout: 30s, bootTimeout: 3s, bootMargin: 1s, attempts: ${opts.attempts ?? 2}, offlineGrace: 60s }
  - { name: ${labB}, adapter: qemu, platforms: [qemu-x86_64], scheduleToStartTimeout: 5s, bootMargin: 1s, attempts: ${opts.attempts ?? 2} }
`);
}

/** Stand-in workers for `lab`: one per platform, on its board queues (what workers/lab.ts polls). */
export function boardWorkers(
  cfg: ReturnType<typeof testConfig>,
  prefix: string,
  lab: string,
  bootKernel: (req: BootRequest) => Promise<BootResult | undefined>,
) {
  const platforms = cfg.labs.find((l) => l.name === lab)?.platforms ?? [];
  return platforms.map((p) => ({
    taskQueue: boardQueue({ taskQueuePrefix: prefix }, lab, p.name),
    activities: { bootKernel },
  }));
}

export function pipelineInput(cfg: ReturnType<typeof testConfig>, prefix: string, sha = SHA): RevisionPipelineInput {
  const tree = cfg.trees[0].name;
  return { ...pipelineSpecFor(cfg, tree, 'master', { taskQueuePrefix: prefix }), sha };
}

export function buildBootInput(cfg: ReturnType<typeof testConfig>, prefix: string): BuildBootInput {
  const spec = pipelineInput(cfg, prefix);
  const config = spec.buildConfigs[0];
  return {
    tree: spec.tree,
    branch: spec.branch,
    url: spec.url,
    sha: SHA,
    describe: 'v6.1-rc1-3-gabcdef012345',
    config,
    targets: bootTargets(spec, config),
    taskQueuePrefix: prefix,
  };
}

export function passedBuild(req: BuildRequest): BuildResult {
  const key = `builds/${req.tree}/${req.sha.slice(0, 12)}/${req.config.name}`;
  return {
    status: 'pass',
    warnings: 2,
    errors: 0,
    durationMs: 1234,
    artifacts: { kernel: { key: `${key}/bzImage`, size: 1000 }, log: { key: `${key}/build.log`, size: 10 } },
    errorLines: [],
    builder: 'stub-builder',
  };
}

export function passedBoot(req: BootRequest): BootResult {
  return {
    status: 'pass',
    platform: req.platform.name,
    lab: req.lab,
    durationMs: 900,
    log: { key: `boots/${req.bootKey.replace(/:/g, '/')}.log`, size: 10 },
    message: 'BOOTFARM: boot ok',
    attempts: Context.current().info.attempt,
  };
}

/** Resolves when `predicate` holds, polling; for waiting on real effects (rows, workflows). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a pipeline calls after its builds and boots besides recording: the
 * real regression tracking, and a report sender that only notes what it was
 * asked to send (mail delivery is the report tests' subject).
 */
export function afterBuildActivities(sql: Sql, sent: RevisionReportRequest[] = []) {
  return {
    ...createRegressionActivities({ sql }),
    async sendRevisionReport(req: RevisionReportRequest): Promise<SendResult> {
      sent.push(req);
      return { messageId: req.messageId, status: 'sent', subject: `${req.kind} report of ${req.tree}/${req.branch}` };
    },
  };
}
