/**
 * Real kselftests for the real-Linux ramdisks: collections of
 * tools/testing/selftests from the tree's own source (the imported
 * linux-source, read with `git archive`, so nothing is unpacked twice),
 * cross-compiled statically for an arch (the busybox ramdisk has no libc)
 * and laid out as `make install` would: `run_kselftest.sh`, `kselftest/`,
 * `kselftest-list.txt` and `<collection>/<program>`. Kept in the cache
 * directory per arch; a build takes about 15 s per arch here.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { archInfo } from '../domain/archs';
import { withFileLock } from '../plumbing/git/fileLock';
import { runOk } from '../plumbing/git/command';
import { staticElfProblem } from './busybox';
import { cachePaths, realLinuxCacheDir } from './paths';

/**
 * The collections and the programs of each that the ramdisks carry: the
 * timers tests that are safe (they change no clock) and finish in seconds
 * under TCG (set-timer-lat and mqueue-lat take minutes there, and their
 * latency bounds fail on an emulated CPU), and the size test. rtcpie skips
 * on the tinyconfig kernels, which have no RTC. `settings` files come along
 * (timers has timeout=0).
 */
export const KSELFTEST_COLLECTIONS: Readonly<Record<string, readonly string[]>> = {
  timers: ['posix_timers', 'nsleep-lat', 'rtcpie'],
  size: ['get_size'],
};

/** Bump when the collections or the way they are built change: cached builds (and ramdisks) of another version are rebuilt. */
export const KSELFTESTS_VERSION = 2;

const SELFTESTS = 'tools/testing/selftests';

/** A file of the install tree, relative to the ramdisk's /kselftest, with its bytes' path on this host. */
export interface KselftestFile {
  path: string;
  source: string;
  executable: boolean;
}

async function listTree(root: string, dir = ''): Promise<KselftestFile[]> {
  const out: KselftestFile[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTree(root, rel)));
    else
      out.push({ path: rel, source: join(root, rel), executable: !rel.endsWith('.txt') && !rel.endsWith('settings') });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The kselftest install tree for `arch`, built on first use from the
 * tree's commit `base` in `repo`; returns its files.
 */
export async function ensureKselftests(
  arch: string,
  source: { repo: string; base: string },
  opts: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<KselftestFile[]> {
  const paths = cachePaths(opts.cacheDir ?? realLinuxCacheDir());
  const root = join(paths.root, 'kselftests');
  const target = join(root, `${arch}-v${KSELFTESTS_VERSION}`);
  if (existsSync(join(target, 'kselftest-list.txt'))) return listTree(target);
  await mkdir(root, { recursive: true });
  return withFileLock(join(root, `${arch}.lock`), async () => {
    if (existsSync(join(target, 'kselftest-list.txt'))) return listTree(target);
    const work = await mkdtemp(join(root, `.${arch}-`));
    try {
      opts.log?.(`building kselftests ${Object.keys(KSELFTEST_COLLECTIONS).join(', ')} for ${arch} (static)`);
      const tar = join(work, 'src.tar');
      const collections = Object.keys(KSELFTEST_COLLECTIONS);
      await runOk('git', [
        '-C',
        source.repo,
        'archive',
        '--format=tar',
        '-o',
        tar,
        source.base,
        '--',
        ...['kselftest.h', 'kselftest_harness.h', 'lib.mk', 'run_kselftest.sh', 'kselftest', ...collections].map(
          (p) => `${SELFTESTS}/${p}`,
        ),
      ]);
      const src = join(work, 'src');
      await mkdir(src);
      await runOk('tar', ['-x', '-f', tar, '-C', src]);
      const install = join(work, 'install');
      const info = archInfo(arch);
      const list: string[] = [];
      for (const [collection, programs] of Object.entries(KSELFTEST_COLLECTIONS)) {
        const out = join(install, collection);
        await mkdir(out, { recursive: true });
        // lib.mk's USERLDFLAGS reach the link; size's Makefile links statically itself
        await runOk('nice', [
          '-n',
          '10',
          'make',
          '-s',
          '-C',
          join(src, SELFTESTS, collection),
          `ARCH=${info.kernelArch}`,
          `CROSS_COMPILE=${info.crossCompile}`,
          'USERLDFLAGS=-static',
          `OUTPUT=${out}`,
          ...programs.map((p) => join(out, p)),
        ]);
        for (const p of programs) {
          const problem = await staticElfProblem(join(out, p), arch);
          if (problem)
            throw new Error(`kselftest ${collection}/${p} for ${arch} is not a static executable: ${problem}`);
          list.push(`${collection}:${p}`);
        }
        const settings = join(src, SELFTESTS, collection, 'settings');
        if (existsSync(settings)) await copyFile(settings, join(out, 'settings'));
      }
      await mkdir(join(install, 'kselftest'));
      await copyFile(join(src, SELFTESTS, 'kselftest/runner.sh'), join(install, 'kselftest/runner.sh'));
      await copyFile(join(src, SELFTESTS, 'run_kselftest.sh'), join(install, 'run_kselftest.sh'));
      await chmod(join(install, 'run_kselftest.sh'), 0o755);
      await writeFile(join(install, 'kselftest-list.txt'), `${list.join('\n')}\n`);
      await rm(target, { recursive: true, force: true });
      await rename(install, target);
      return listTree(target);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}
