/**
 * The next commit(s) to test, computed on the tree's mirror from the good
 * set, the bad commit and the skipped set. One board: exactly git bisect's
 * choice (git computes it). k boards: k-section on the same graph.
 */
import type { BisectCandidate, CandidateQuery, NextCandidates } from '../../domain/bisect';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { git } from './gitExec';
import { pickWithSkips } from './gitSkipPolicy';
import { describeCommit, subjects } from './range';
import { parseRangeGraph, pickKSection, rangeWeights, type RangeGraph } from './rangeGraph';

function rangeArgs(q: Pick<CandidateQuery, 'bad' | 'good'>): string[] {
  assertName('bad commit', q.bad, SHA_PATTERN);
  q.good.forEach((g) => assertName('good commit', g, SHA_PATTERN));
  return [q.bad, '--not', ...q.good];
}

export async function loadRangeGraph(gitDir: string, q: Pick<CandidateQuery, 'bad' | 'good'>): Promise<RangeGraph> {
  return parseRangeGraph(await git(gitDir, ['rev-list', '--parents', '--topo-order', ...rangeArgs(q)]));
}

/**
 * git's own pick for one board: `--bisect` while nothing was skipped;
 * once anything was (even outside the remaining range) git sorts all
 * commits by distance (`--bisect-all` order) and applies its skip policy.
 */
async function gitPick(
  gitDir: string,
  q: CandidateQuery,
  skippedInRange: ReadonlySet<string>,
): Promise<{ pick: string; tried: string[] }> {
  if (q.skipped.length === 0) {
    const pick = (await git(gitDir, ['rev-list', '--bisect', ...rangeArgs(q)])).trim();
    return { pick, tried: [] };
  }
  const sorted = (await git(gitDir, ['rev-list', '--bisect-all', ...rangeArgs(q)]))
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(' ')[0]);
  return pickWithSkips(sorted, skippedInRange, q.bad);
}

async function describeCandidates(
  gitDir: string,
  shas: string[],
  weightOf: (sha: string) => number,
): Promise<BisectCandidate[]> {
  const subjectOf = await subjects(gitDir, shas);
  return Promise.all(
    shas.map(async (sha, i) => ({
      sha,
      subject: subjectOf[i],
      describe: await describeCommit(gitDir, sha),
      weight: weightOf(sha),
    })),
  );
}

export async function computeCandidates(gitDir: string, q: CandidateQuery): Promise<NextCandidates> {
  const graph = await loadRangeGraph(gitDir, q);
  const remaining = graph.shas.length;
  if (remaining === 0)
    throw nonRetryable(ErrorType.invalidInput, `nothing to bisect: ${q.bad} is reachable from a good commit`);
  const weight = rangeWeights(graph);
  const skippedInRange = new Set(q.skipped.filter((s) => graph.index.has(s)));
  const skippedList = graph.shas.filter((s) => skippedInRange.has(s));
  const weightOf = (sha: string) => weight[graph.index.get(sha)!];

  let picks: string[];
  if (q.k <= 1) {
    const { pick, tried } = await gitPick(gitDir, q, skippedInRange);
    if (pick === q.bad) {
      return tried.length > 0
        ? { kind: 'only-skipped', suspects: [...tried, q.bad], remaining }
        : { kind: 'found', culprit: q.bad, remaining };
    }
    picks = [pick];
  } else {
    picks = pickKSection(graph, weight, new Set([...skippedInRange, q.bad]), q.k).map((i) => graph.shas[i]);
    if (picks.length === 0) {
      return skippedList.length > 0
        ? { kind: 'only-skipped', suspects: [...skippedList, q.bad], remaining }
        : { kind: 'found', culprit: q.bad, remaining };
    }
  }
  return { kind: 'test', candidates: await describeCandidates(gitDir, picks, weightOf), remaining };
}
