/**
 * A bisection's verdicts against the commit graph, on the tree's mirror.
 * In a monotonic history every descendant of a bad commit is bad; a good
 * commit that descends from a bad one means a verdict is wrong (a flaky
 * boot) or the history broke, was fixed and broke again. Also which bad
 * commit bounds the search once such commits are set aside.
 */
import type { GraphCheck, NonMonotonic } from '../../domain/bisect';
import { SHA_PATTERN, assertName } from '../../domain/names';
import { git, isAncestor } from './gitExec';
import { parseRangeGraph, rangeWeights } from './rangeGraph';

/** Commits reachable from `tip` and from none of `not`. */
async function countOnly(gitDir: string, tip: string, not: string[]): Promise<number> {
  return Number((await git(gitDir, ['rev-list', '--count', tip, '--not', ...not, '--'])).trim());
}

/** Of `candidates`, the one with the fewest commits between it and `sha` (`count(x)`); ties: the first. */
async function nearest(candidates: string[], count: (x: string) => Promise<number>): Promise<string | undefined> {
  let best: { sha: string; n: number } | undefined;
  for (const c of candidates) {
    const n = await count(c);
    if (!best || n < best.n) best = { sha: c, n };
  }
  return best?.sha;
}

async function contradiction(gitDir: string, bad: string, goods: string[]): Promise<NonMonotonic> {
  const after: string[] = [];
  const before: string[] = [];
  for (const g of goods) {
    if (await isAncestor(gitDir, bad, g)) after.push(g);
    else if (await isAncestor(gitDir, g, bad)) before.push(g);
  }
  // `bad` is reached from a good commit, so one descends from it (or is it: the same commit given both ways)
  const good = (await nearest(after, (g) => countOnly(gitDir, g, [bad]))) ?? bad;
  const goodBefore = await nearest(before, (g) => countOnly(gitDir, bad, [g]));
  return { bad, good, ...(goodBefore ? { goodBefore } : {}) };
}

export async function checkGraph(gitDir: string, q: { good: string[]; bad: string[] }): Promise<GraphCheck> {
  q.good.forEach((g) => assertName('good commit', g, SHA_PATTERN));
  q.bad.forEach((b) => assertName('bad commit', b, SHA_PATTERN));
  const goods = [...new Set(q.good)];
  const bads = [...new Set(q.bad)];
  // one walk: the commits some bad commit reaches and no good one does; a bad commit missing from it is
  // reached from a good one, and each other's weight there is what it reaches beyond every good commit
  const graph = parseRangeGraph(
    bads.length ? await git(gitDir, ['rev-list', '--parents', '--topo-order', ...bads, '--not', ...goods, '--']) : '',
  );
  const weight = rangeWeights(graph);
  const contradictions: NonMonotonic[] = [];
  let bound: { sha: string; n: number } | undefined;
  for (const bad of bads) {
    const i = graph.index.get(bad);
    if (i === undefined) {
      contradictions.push(await contradiction(gitDir, bad, goods));
      continue;
    }
    if (!bound || weight[i] <= bound.n) bound = { sha: bad, n: weight[i] };
  }
  return { contradictions, ...(bound ? { bound: bound.sha } : {}) };
}
