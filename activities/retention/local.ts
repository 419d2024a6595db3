/**
 * What builders and lab workers remove on their own host (docs/retention.md).
 * They hold no database credentials, so these sweeps look only at local
 * directories, and never at one in use: a build directory is taken only when
 * its lock is free, a mirror's temporary clone only when the mirror's lock
 * is, a lab's boot scratch directory only long after any boot could still
 * be using it.
 */
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../plumbing/git/command';
import { tryFileLock } from '../../plumbing/git/fileLock';
import { git, mirrorLockPath, mirrorPath, sweepDeadClones } from '../../plumbing/git/mirror';
import { buildDirs } from '../build/index';
import { boxedArgv, ownForBox, type BoxUser } from '../build/box';

export interface LocalSweepReport {
  /** directories removed */
  removed: string[];
  /** what was found in use and left alone */
  busy: string[];
  /** one line per other action (ccache) */
  notes: string[];
}

const emptyReport = (): LocalSweepReport => ({ removed: [], busy: [], notes: [] });

async function mtimeMs(path: string): Promise<number> {
  return (await stat(path).catch(() => null))?.mtimeMs ?? 0;
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/**
 * A (tree, build config) build directory no build used for `olderThanMs`:
 * its worktree, object directory and staging go (the next build of that
 * config makes them afresh, cold). The lock file stays: a builder may be
 * waiting on it, and a new file would give two builders the same directory.
 */
async function sweepWorktrees(workDir: string, mirrorDir: string, olderThanMs: number, report: LocalSweepReport) {
  const before = Date.now() - olderThanMs;
  const root = join(workDir, 'builds');
  for (const tree of await subdirectories(root)) {
    let removedHere = false;
    for (const config of await subdirectories(join(root, tree))) {
      const dirs = buildDirs(workDir, tree, config);
      // build.log is written by every build; the directory's own time covers one that never got that far
      const lastUse = Math.max(await mtimeMs(dirs.log), await mtimeMs(dirs.base));
      if (lastUse >= before) continue;
      const lock = await tryFileLock(dirs.lock);
      if (!lock) {
        report.busy.push(dirs.base);
        continue;
      }
      try {
        await rm(dirs.base, { recursive: true, force: true });
        report.removed.push(dirs.base);
        removedHere = true;
      } finally {
        await lock.release();
      }
    }
    if (removedHere) await pruneWorktrees(mirrorDir, tree, report);
  }
}

/** The mirror forgets worktrees whose directories are gone; the next `worktree add` would do it too, this keeps its list short. */
async function pruneWorktrees(mirrorDir: string, tree: string, report: LocalSweepReport) {
  const mirror = mirrorPath(mirrorDir, tree);
  if (!existsSync(join(mirror, 'HEAD'))) return;
  const lock = await tryFileLock(mirrorLockPath(mirrorDir, tree));
  if (!lock) return; // a fetch or worktree add runs: it prunes itself
  try {
    await git(['-C', mirror, 'worktree', 'prune'], { inheritFds: [lock.fd] });
  } catch (e) {
    report.notes.push(`git worktree prune of ${tree} failed: ${(e as Error).message}`);
  } finally {
    await lock.release();
  }
}

/**
 * ccache's own cap (`ccache -M`, kept in the cache's ccache.conf) and a
 * clean-up down to it now, run in the build box as the user builds run as:
 * files ccache writes as root (its config, stats, locks) would be read-only
 * to the next build, and the box reaches the cache whatever its parents'
 * modes.
 */
async function capCcache(ccacheDir: string, maxBytes: number, user: BoxUser | undefined, report: LocalSweepReport) {
  // ccache wants a home even with CCACHE_DIR set; the box user has none
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', CCACHE_DIR: ccacheDir, HOME: ccacheDir, LC_ALL: 'C' };
  const size = `${Math.floor(maxBytes / 1024)}Ki`;
  await ownForBox(ccacheDir, user);
  const ccache = (args: string[]) => {
    if (!user) return run('ccache', args, { env });
    const boxed = boxedArgv({ readOnly: [], writable: [ccacheDir] }, user, ccacheDir, 'ccache', args);
    return run(boxed.cmd, boxed.args, { env });
  };
  const set = await ccache(['-M', size]).catch((e: Error) => ({ code: -1, stderr: e.message }));
  if (set.code !== 0) {
    report.notes.push(`ccache -M ${size} failed: ${set.stderr.trim() || `exit ${set.code}`}`);
    return;
  }
  const cleaned = await ccache(['--cleanup']);
  const stats = await ccache(['--print-stats']);
  const kib = /^cache_size_kibibyte\t(\d+)$/m.exec(stats.stdout)?.[1];
  report.notes.push(
    `ccache ${ccacheDir}: max ${size}${cleaned.code === 0 ? ', cleaned up' : ''}${kib ? `, ${kib} KiB in use` : ''}`,
  );
}

export interface BuilderSweepOptions {
  workDir: string;
  mirrorDir: string;
  /** null: build directories are kept */
  worktreesMs: number | null;
  ccacheDir: string;
  /** null or ccache disabled: the cache is not touched */
  ccacheBytes: number | null;
  /** the user builds run as (activities/build/box.ts boxUserOf); undefined: the builder's own */
  boxUser?: BoxUser;
}

/** A builder's sweep: unused build directories, the ccache cap, temporary directories of clones that died. */
export async function sweepBuilder(opts: BuilderSweepOptions): Promise<LocalSweepReport> {
  const report = emptyReport();
  if (opts.worktreesMs !== null) await sweepWorktrees(opts.workDir, opts.mirrorDir, opts.worktreesMs, report);
  if (opts.ccacheBytes !== null) await capCcache(opts.ccacheDir, opts.ccacheBytes, opts.boxUser, report);
  report.removed.push(...(await sweepDeadClones(opts.mirrorDir)));
  return report;
}

/**
 * A lab worker's sweep: boot scratch directories (each boot makes one and
 * removes it when it ends) older than `olderThanMs`, which only a killed
 * worker leaves. The config makes `olderThanMs` at least twice the lab's
 * longest boot, so no running boot's directory qualifies.
 */
export async function sweepLabScratch(workDir: string, olderThanMs: number | null): Promise<LocalSweepReport> {
  const report = emptyReport();
  if (olderThanMs === null) return report;
  const before = Date.now() - olderThanMs;
  for (const name of await subdirectories(workDir)) {
    const dir = join(workDir, name);
    if ((await mtimeMs(dir)) >= before) continue;
    await rm(dir, { recursive: true, force: true });
    report.removed.push(dir);
  }
  return report;
}
