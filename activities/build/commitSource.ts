/**
 * Where the builder gets the commit it builds: the tree's mirror, fetched
 * when it lacks the commit, or, for the bisection's revert check, Bootfarm's
 * revert commit made again in this builder's own mirror (it exists in no
 * remote; activities/bisect/revert.ts makes it identical on every host).
 */
import type { BuildRequest } from '../../domain/types';
import { createRevert } from '../bisect/revert';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { ensureMirror, mirrorLockPath, resolveCommit } from '../../plumbing/git/mirror';

/** `req` is validated (activities/build/index.ts checkRequest). */
export async function commitToBuild(
  mirrorDir: string,
  req: BuildRequest,
  signal?: AbortSignal,
): Promise<{ mirror: string; sha: string }> {
  const { tree, revert } = req;
  const mirror = await ensureMirror(mirrorDir, tree, req.url, { want: revert?.bad ?? req.sha, signal });
  const sha = await resolveCommit(mirror, req.sha);
  if (sha) return { mirror, sha };
  if (!revert)
    throw nonRetryable(ErrorType.unknownRevision, `tree ${tree}: commit ${req.sha} does not exist in ${req.url}`);
  const made = await createRevert(mirror, revert.bad, revert.culprit, mirrorLockPath(mirrorDir, tree));
  if (!made.applied)
    throw nonRetryable(
      ErrorType.unknownRevision,
      `tree ${tree}: cannot make ${req.sha}, the revert of ${revert.culprit} on ${revert.bad}: ${made.reason}`,
    );
  if (made.sha !== req.sha)
    throw nonRetryable(
      ErrorType.unknownRevision,
      `tree ${tree}: reverting ${revert.culprit} on ${revert.bad} here made ${made.sha}, not the bisection's ${req.sha} (a different git version on this builder?)`,
    );
  return { mirror, sha: made.sha };
}
