import { existsSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { git, mirrorLockPath } from '../../plumbing/git/mirror';
import { withFileLock } from '../../plumbing/git/fileLock';

function isWorktreeOf(dir: string, mirror: string): Promise<boolean> {
  if (!existsSync(join(dir, '.git'))) return Promise.resolve(false);
  return git(['-C', dir, 'rev-parse', '--git-common-dir'])
    .then((out) => resolve(dir, out.trim()) === realpathSync(mirror))
    .catch(() => false);
}

/**
 * Bring the persistent worktree `dir` (one per tree and build config) to
 * exactly `sha`: a forced detached checkout rewrites only the files that
 * differ (so their timestamps move and make rebuilds just what they feed),
 * and `clean -fdx` removes anything the commit does not have. A worktree that
 * is missing, belongs to another mirror or is damaged (a killed git's
 * index.lock) is made afresh; the object directory elsewhere is kept.
 */
export async function checkoutWorktree(opts: {
  mirrorDir: string;
  tree: string;
  mirror: string;
  dir: string;
  sha: string;
  signal?: AbortSignal;
}): Promise<void> {
  const { dir, sha, signal } = opts;
  if (await isWorktreeOf(dir, opts.mirror)) {
    try {
      await git(['-C', dir, 'checkout', '--quiet', '--force', '--detach', sha], { signal });
      await git(['-C', dir, 'clean', '-fdxq'], { signal });
      return;
    } catch {
      /* made afresh below */
    }
  }
  await rm(dir, { recursive: true, force: true });
  await withFileLock(
    mirrorLockPath(opts.mirrorDir, opts.tree),
    async (lock) => {
      await git(['-C', opts.mirror, 'worktree', 'prune'], { signal, inheritFds: [lock.fd] });
      await git(['-C', opts.mirror, 'worktree', 'add', '--quiet', '--force', '--detach', dir, sha], {
        signal,
        inheritFds: [lock.fd],
      });
    },
    { signal },
  );
}
