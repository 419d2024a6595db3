/**
 * Is one commit an ancestor of another, and is good..bad a range a
 * bisection can run on: for the bisection activities and for a bisection
 * asked for by hand, which is refused before anything starts.
 */
import { sha12 } from '../../domain/ids';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { CommandError } from './command';
import { git } from './mirror';

/** `git merge-base --is-ancestor`: exit 0 yes, 1 no, anything else an error. */
export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  try {
    await git(['-C', repo, 'merge-base', '--is-ancestor', ancestor, descendant]);
    return true;
  } catch (e) {
    if (e instanceof CommandError && e.result.code === 1) return false;
    throw e;
  }
}

/**
 * Why good..bad is no range to bisect, in one line, or undefined when good
 * is an ancestor of bad. For a bisection asked for by hand: the pipeline's
 * own bisections of a rebased branch start from the merge base instead
 * (activities/bisect/range.ts), but a person who names two commits that are
 * not in order has most likely swapped them or picked the wrong branch.
 */
export async function rangeProblem(repo: string, good: string, bad: string): Promise<string | undefined> {
  assertName('good commit', good, SHA_PATTERN);
  assertName('bad commit', bad, SHA_PATTERN);
  if (good === bad) return `good and bad are the same commit ${sha12(good)}: nothing to bisect`;
  if (await isAncestor(repo, good, bad)) return undefined;
  if (await isAncestor(repo, bad, good))
    return `bad ${sha12(bad)} is an ancestor of good ${sha12(good)}: nothing to bisect (are --good and --bad swapped?)`;
  const base = (await git(['-C', repo, 'merge-base', good, bad]).catch(() => '')).trim();
  return base
    ? `good ${sha12(good)} is not an ancestor of bad ${sha12(bad)}: to bisect from where their histories part, give their merge base --good ${sha12(base)}`
    : `good ${sha12(good)} and bad ${sha12(bad)} share no history: nothing to bisect`;
}
