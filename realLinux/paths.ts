import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Debian's linux-source tarball (package linux-source-6.1). */
export const DEFAULT_TARBALL = '/usr/src/linux-source-6.1.tar.xz';

/**
 * Where the real-Linux tree, the ramdisks and the builders' warm state live
 * between runs (CI's warm runs, later sessions): $BOOTFARM_CACHE_DIR/real-linux,
 * else $XDG_CACHE_HOME/bootfarm/real-linux, else ~/.cache/bootfarm/real-linux.
 */
export function realLinuxCacheDir(): string {
  const base =
    process.env.BOOTFARM_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bootfarm');
  return join(resolve(base), 'real-linux');
}

export function cachePaths(cacheDir = realLinuxCacheDir()) {
  return {
    root: cacheDir,
    repo: join(cacheDir, 'linux.git'),
    manifest: join(cacheDir, 'tree.json'),
    treeLock: join(cacheDir, 'tree.lock'),
    ramdisks: join(cacheDir, 'ramdisks'),
    debs: join(cacheDir, 'debs'),
    /** a builder workDir whose worktrees, object dirs and mirrors stay warm (tests, bench) */
    builder: join(cacheDir, 'builder'),
    /** that builder's ccache */
    ccache: join(cacheDir, 'ccache'),
  };
}
