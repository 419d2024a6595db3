/**
 * A stand-in for buildBoot in bisection workflow tests that answers as the
 * fixture kernel would: a commit whose tree has a broken driver does not
 * build, one with a panicking (or hanging) driver fails to boot. It reads
 * the commit's tree from the tree's mirror (where revert commits live too),
 * writes a boot log to the artifact store, and lets a test inject a flaky
 * board or a lost child.
 */
import type { ArtifactStore } from '../../../plumbing/store/types';
import { runOk } from '../../../plumbing/git/command';
import type { BootResult, BuildBootInput, BuildBootResult } from '../../../domain/types';
import type { Status } from '../../../domain/status';
import type { StubLabActivities } from '../stubs/workflows';
import { bootPlace, flakes } from './flakyBoard';

export interface FixtureVerdict {
  build: 'pass' | 'fail';
  boot: 'pass' | 'fail';
}

/** What the fixture kernel of commit `sha` does, from the effect files in its tree. */
export async function fixtureVerdict(repo: string, sha: string): Promise<FixtureVerdict> {
  const files = (await runOk('git', ['-C', repo, 'ls-tree', '-r', '--name-only', sha, '--', 'drivers/fixture'])).stdout;
  return {
    build: /\/broken_[^/]+\.c$/m.test(files) ? 'fail' : 'pass',
    boot: /\/(panic|hang)_[^/]+\.c$/m.test(files) ? 'fail' : 'pass',
  };
}

/** Oracle sets for `git bisect run` on the range: commits that fail to boot, and those that do not build. */
export async function fixtureOracle(
  repo: string,
  good: string,
  bad: string,
): Promise<{ badSet: Set<string>; skipSet: Set<string> }> {
  const range = (await runOk('git', ['-C', repo, 'rev-list', bad, `^${good}`])).stdout.split('\n').filter(Boolean);
  const badSet = new Set<string>();
  const skipSet = new Set<string>();
  for (const sha of range) {
    const v = await fixtureVerdict(repo, sha);
    if (v.build === 'fail') skipSet.add(sha);
    else if (v.boot === 'fail') badSet.add(sha);
  }
  return { badSet, skipSet };
}

export interface LabCall {
  workflowId: string;
  sha: string;
  runs: number;
  /** booted an earlier build instead of building */
  prebuilt?: boolean;
}

/** What the board does for one boot instead of the kernel's own behaviour: a status, or a lost child ('throw'). */
export type Interference = (call: {
  sha: string;
  workflowId: string;
  run: number;
  /** what the fixture kernel does on a perfect board */
  kernel: 'pass' | 'fail';
}) => Status | 'throw' | undefined;

/** A board failing good kernels' boots at `rate`, seeded (support/flakyBoard.ts); `shas` name the history's commits. */
export const flakyBoard =
  (seed: number, rate: number, shas: string[]): Interference =>
  ({ workflowId, run, kernel }) =>
    kernel === 'pass' && flakes(seed, rate, `${bootPlace(workflowId, shas)}:${run}`) ? 'fail' : undefined;

export function fixtureLab(opts: {
  mirror: string;
  store: ArtifactStore;
  interfere?: Interference;
  /** what the builder does instead of building: 'fail' breaks this build */
  interfereBuild?: (input: BuildBootInput) => 'fail' | undefined;
}) {
  const calls: LabCall[] = [];
  /** the builds "made", one per commit, as buildBoot records them */
  const buildIds = new Map<string, number>();
  const activities: StubLabActivities = {
    async stubBuildBoot({
      input,
      workflowId,
    }: {
      input: BuildBootInput;
      workflowId: string;
    }): Promise<BuildBootResult> {
      const runs = Math.max(1, input.runs ?? 1);
      calls.push({ workflowId, sha: input.sha, runs, ...(input.prebuilt ? { prebuilt: true } : {}) });
      const v = await fixtureVerdict(opts.mirror, input.sha);
      if (!input.prebuilt && opts.interfereBuild?.(input) === 'fail') v.build = 'fail';
      const target = input.targets[0];
      if (input.prebuilt && (!buildIds.has(input.sha) || input.prebuilt.build.status !== 'pass'))
        throw new Error(`asked to boot a build of ${input.sha} that was never made, or did not pass`);
      if (v.build === 'pass' && !buildIds.has(input.sha)) buildIds.set(input.sha, buildIds.size + 1);
      const build: BuildBootResult['build'] = input.prebuilt?.build ?? {
        status: v.build,
        warnings: 0,
        errors: v.build === 'fail' ? 1 : 0,
        durationMs: 1000,
        artifacts: {},
        errorLines: v.build === 'fail' ? ["drivers/fixture/broken.c:4:1: error: expected ';' before '}' token"] : [],
      };
      const boots: BootResult[] = [];
      if (v.build === 'pass') {
        for (let run = 0; run < runs; run++) {
          const injected = opts.interfere?.({ sha: input.sha, workflowId, run, kernel: v.boot });
          if (injected === 'throw') throw new Error(`lost the build-boot of ${input.sha.slice(0, 12)}`);
          const status: Status = injected ?? v.boot;
          const key = `boots/${input.tree}/${input.sha.slice(0, 12)}/${workflowId.replace(/[^A-Za-z0-9._-]/g, '_')}-${run}.log`;
          const text =
            status === 'fail'
              ? `Linux-fixture version ${input.describe}\nfixture: early init\nKernel panic - not syncing: fixture: boom\n`
              : `Linux-fixture version ${input.describe}\nBOOTFARM: boot ok\n`;
          const log = await opts.store.put(key, text);
          boots.push({
            status,
            platform: target.platform.name,
            lab: target.lab.name,
            durationMs: 500,
            log,
            message:
              status === 'fail'
                ? 'Kernel panic - not syncing: fixture: boom'
                : status === 'pass'
                  ? 'BOOTFARM: boot ok'
                  : `board ${status}`,
            run,
          });
        }
      }
      const buildId = v.build === 'pass' ? buildIds.get(input.sha) : undefined;
      return { config: input.config.name, arch: input.config.arch, ...(buildId ? { buildId } : {}), build, boots };
    },
  };
  return { calls, activities };
}
