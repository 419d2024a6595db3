/**
 * The bad commit with the culprit reverted, made in the tree's mirror on
 * `refs/bootfarm/revert/<bad12>-<culprit12>` when `git revert` applies
 * cleanly. Author, committer and dates are fixed (the dates are the bad
 * commit's), so a retried activity makes the very same commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RevertOutcome } from '../../domain/bisect';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { sha12 } from '../../domain/ids';
import { CommandError, git } from './gitExec';
import { describeCommit } from './range';
import { withFileLock } from '../../plumbing/git/fileLock';

export const BOOTFARM_IDENTITY = { name: 'Bootfarm', email: 'bootfarm@localhost' };

export function revertRef(bad: string, culprit: string): string {
  return `refs/bootfarm/revert/${sha12(bad)}-${sha12(culprit)}`;
}

async function existingRef(gitDir: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(gitDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim();
  } catch {
    return undefined;
  }
}

/**
 * `lockPath` is the mirror's lock (plumbing/git/mirror.ts mirrorLockPath):
 * worktrees are added and pruned under it, as the builder does, so a fetch
 * or a builder's prune never races with ours.
 */
export async function createRevert(
  gitDir: string,
  bad: string,
  culprit: string,
  lockPath: string,
): Promise<RevertOutcome> {
  assertName('bad commit', bad, SHA_PATTERN);
  assertName('culprit commit', culprit, SHA_PATTERN);
  const ref = revertRef(bad, culprit);
  const done = await existingRef(gitDir, ref);
  if (done) return { applied: true, sha: done, ref, describe: await describeCommit(gitDir, done) };

  const parents = (await git(gitDir, ['rev-list', '--parents', '-n', '1', culprit])).trim().split(' ').length - 1;
  const date = (await git(gitDir, ['log', '-1', '--format=%cI', bad])).trim();
  const env = {
    GIT_AUTHOR_NAME: BOOTFARM_IDENTITY.name,
    GIT_AUTHOR_EMAIL: BOOTFARM_IDENTITY.email,
    GIT_COMMITTER_NAME: BOOTFARM_IDENTITY.name,
    GIT_COMMITTER_EMAIL: BOOTFARM_IDENTITY.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const work = await mkdtemp(join(tmpdir(), 'bootfarm-revert-'));
  const tree = join(work, 'tree');
  try {
    await withFileLock(lockPath, () => git(gitDir, ['worktree', 'add', '--detach', '--quiet', tree, bad], { env }));
    try {
      // a merge is reverted against its first parent: the line it was merged into
      await git(gitDir, ['revert', '--no-edit', ...(parents > 1 ? ['-m', '1'] : []), culprit], { cwd: tree, env });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      const conflicts = (await git(gitDir, ['diff', '--name-only', '--diff-filter=U'], { cwd: tree }).catch(() => ''))
        .trim()
        .split('\n')
        .filter(Boolean);
      return {
        applied: false,
        reason: conflicts.length
          ? `the revert conflicts in ${conflicts.join(', ')}`
          : `git revert failed: ${e.message}`,
      };
    }
    const sha = (await git(gitDir, ['rev-parse', 'HEAD'], { cwd: tree })).trim();
    await git(gitDir, ['update-ref', ref, sha]);
    return { applied: true, sha, ref, describe: await describeCommit(gitDir, sha) };
  } finally {
    await rm(work, { recursive: true, force: true });
    await withFileLock(lockPath, () => git(gitDir, ['worktree', 'prune'])).catch(() => undefined);
  }
}
