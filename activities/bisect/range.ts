/**
 * The endpoints of a bisection on the tree's mirror. When the last good
 * revision is not an ancestor of the first bad one (a rebased branch such as
 * next or stable-rc), the range starts at their merge base(s) instead.
 */
import type { BisectRange } from '../../domain/bisect';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { CommandError, git, isAncestor } from './gitExec';

async function resolveCommit(gitDir: string, what: string, rev: string): Promise<string> {
  assertName(`${what} commit`, rev, SHA_PATTERN);
  try {
    return (await git(gitDir, ['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`])).trim();
  } catch (e) {
    if (e instanceof CommandError)
      throw nonRetryable(ErrorType.unknownRevision, `the ${what} commit ${rev} is not in the tree`);
    throw e;
  }
}

export async function describeCommit(gitDir: string, sha: string): Promise<string> {
  return (await git(gitDir, ['describe', '--always', '--abbrev=12', '--tags', sha])).trim();
}

/** Subjects of full shas, in the order asked. */
export async function subjects(gitDir: string, shas: string[]): Promise<string[]> {
  if (shas.length === 0) return [];
  const out = await git(gitDir, ['log', '--no-walk=unsorted', '--format=%H %s', ...shas]);
  const bySha = new Map(
    out
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => [l.slice(0, 40), l.slice(41)] as const),
  );
  return shas.map((s) => bySha.get(s) ?? '');
}

export async function resolveBisectRange(gitDir: string, req: { good: string; bad: string }): Promise<BisectRange> {
  const [bad, givenGood] = [await resolveCommit(gitDir, 'bad', req.bad), await resolveCommit(gitDir, 'good', req.good)];
  if (bad === givenGood) throw nonRetryable(ErrorType.invalidInput, `good and bad are the same commit ${bad}`);
  let good = [givenGood];
  const fromMergeBase = !(await isAncestor(gitDir, givenGood, bad));
  if (fromMergeBase) {
    good = (await git(gitDir, ['merge-base', '--all', givenGood, bad]).catch(() => ''))
      .split('\n')
      .filter((l) => l.length > 0)
      .sort();
    if (good.length === 0)
      throw nonRetryable(ErrorType.invalidInput, `good ${givenGood} and bad ${bad} share no history`);
    if (good.includes(bad))
      throw nonRetryable(ErrorType.invalidInput, `bad ${bad} is an ancestor of good ${givenGood}: nothing to bisect`);
  }
  const size = Number((await git(gitDir, ['rev-list', '--count', bad, '--not', ...good])).trim());
  const [badSubject, ...goodSubjects] = await subjects(gitDir, [bad, ...good]);
  const describes = Object.fromEntries(
    await Promise.all([bad, ...good].map(async (sha) => [sha, await describeCommit(gitDir, sha)] as const)),
  );
  return { givenGood, bad, badSubject, good, goodSubjects, fromMergeBase, size, describes };
}
