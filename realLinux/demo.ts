/**
 * The real-Linux demo (`bootfarm up --real-linux`): the cached tree and
 * ramdisks, a copy of the tree in the data directory whose master starts
 * before the regression, and the config slice to merge. Pushing the
 * regression moves that master to the bad head: the next pipeline fails to
 * boot x86_64 (arm64 still boots), and the bisection names the culprit.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BootfarmConfig } from '../domain/config';
import { runOk } from '../plumbing/git/command';
import { REAL_LINUX_ARCHES, realLinuxSlice, type RealLinuxArch, type RealLinuxSlice } from './config';
import { ensureRamdisk } from './ramdisk';
import { ensureRealLinuxTree, type RealLinuxTree } from './tree';

export interface RealLinuxDemo extends RealLinuxSlice {
  /** the cached tree the demo copy was made from (its good/culprit/bad shas) */
  tree: RealLinuxTree;
  /** the demo's repository: the tree url in the slice */
  repo: string;
  /** where master is now: 'good' until the regression is pushed */
  stage: 'good' | 'bad';
  /** moves master to the bad head (idempotent); returns its sha */
  pushRegression(): Promise<string>;
}

async function master(repo: string): Promise<string> {
  return (await runOk('git', ['-C', repo, 'rev-parse', 'refs/heads/master'])).stdout.trim();
}

/**
 * The demo's repository at `dir`: a bare copy of the cached tree sharing its
 * objects through hard links, made with master at the good head.
 */
export async function demoRepo(dir: string, tree: RealLinuxTree) {
  if (existsSync(join(dir, 'HEAD'))) {
    const known =
      (await runOk('git', ['-C', dir, 'cat-file', '-e', `${tree.bad}^{commit}`]).catch(() => undefined)) !== undefined;
    if (!known) await rm(dir, { recursive: true, force: true }); // made from another tarball or story
  }
  if (!existsSync(join(dir, 'HEAD'))) {
    await mkdir(dirname(dir), { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await runOk('git', ['clone', '--bare', '--quiet', tree.repo, tmp]);
    await runOk('git', ['-C', tmp, 'config', 'gc.auto', '0']);
    await runOk('git', ['-C', tmp, 'update-ref', 'refs/heads/master', tree.good]);
    await rename(tmp, dir);
  }
  return {
    /** where master is: 'good' until the regression is pushed */
    stage: async (): Promise<'good' | 'bad'> => ((await master(dir)) === tree.good ? 'good' : 'bad'),
    /** moves master to the bad head (idempotent); returns its sha */
    async pushRegression(): Promise<string> {
      const now = await master(dir);
      if (now !== tree.bad) await runOk('git', ['-C', dir, 'update-ref', 'refs/heads/master', tree.bad, now]);
      return tree.bad;
    },
  };
}

/**
 * Makes (or finds) everything the real-Linux demo needs and returns the
 * config slice to merge into `config` (mergeConfigSlice): tree `real-linux`,
 * build configs x86_64-tinyconfig and arm64-tinyconfig, platforms
 * qemu-x86_64 and qemu-arm64-virt on the config's QEMU lab. The first call
 * on a machine imports the kernel source (a few minutes); later ones take
 * a second.
 */
export async function prepareRealLinuxDemo(
  config: Pick<BootfarmConfig, 'labs'>,
  dataDir: string,
  opts: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<RealLinuxDemo> {
  const tree = await ensureRealLinuxTree({ cacheDir: opts.cacheDir, log: opts.log });
  const ramdisks = {} as Record<RealLinuxArch, string>;
  for (const arch of REAL_LINUX_ARCHES)
    ramdisks[arch] = await ensureRamdisk(arch, { cacheDir: opts.cacheDir, log: opts.log });
  const repo = join(resolve(dataDir), 'real-linux', 'linux.git');
  const demo = await demoRepo(repo, tree);
  const slice = realLinuxSlice({ url: repo, ramdisks, base: config, interval: '1m' });
  return { ...slice, tree, repo, stage: await demo.stage(), pushRegression: demo.pushRegression };
}
