/**
 * Candidate selection and the search state machine against real `git bisect
 * run` on many random commit graphs (real repositories written with git
 * fast-import): one board tests exactly the commits git tests; k boards find
 * the same culprit in fewer rounds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseRangeGraph, pickKSection, rangeWeights } from '../../activities/bisect/rangeGraph';
import { gitPrn, gitSqrti, pickWithSkips } from '../../activities/bisect/gitSkipPolicy';
import { ancestors, descendants, randomDag, writeHistory, type SyntheticCommit } from './support/syntheticHistory';
import { gitBisectRun } from './support/gitBisectRun';
import { simulateBisection } from './support/simulate';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-cand-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let repoCount = 0;
const newDir = () => join(root, `r${repoCount++}`);

/** rev-list --parents style text for a synthetic graph, children first. */
function revListText(commits: SyntheticCommit[], range: number[]): string {
  return [...range]
    .sort((a, b) => b - a)
    .map((i) => [`c${i}`, ...commits[i].parents.map((p) => `c${p}`)].join(' '))
    .join('\n');
}

const dagArb = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  size: fc.integer({ min: 3, max: 90 }),
  forkRate: fc.constantFrom(0, 0.15, 0.35),
  mergeRate: fc.constantFrom(0.2, 0.5),
});

describe('the remaining range as a graph', () => {
  it('weighs each commit by the range commits it reaches (itself included), as a brute-force walk does, on random DAGs', () => {
    fc.assert(
      fc.property(dagArb, fc.integer({ min: 0, max: 1000 }), (shape, pick) => {
        const commits = randomDag(shape.seed, shape);
        const head = commits.length - 1;
        const good = pick % commits.length === head ? 0 : pick % commits.length;
        const excluded = ancestors(commits, good);
        const range = [...ancestors(commits, head)].filter((i) => !excluded.has(i));
        const graph = parseRangeGraph(revListText(commits, range));
        const weight = rangeWeights(graph);
        for (const i of range) {
          const brute = [...ancestors(commits, i)].filter((a) => !excluded.has(a)).length;
          expect(weight[graph.index.get(`c${i}`)!]).toBe(brute);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('picks k commits that cut a line of N commits into k+1 nearly equal parts, never a skipped one', () => {
    const n = 100;
    const line = Array.from({ length: n }, (_, i) => `c${n - i} c${n - i - 1}`).join('\n'); // c1..c100, c0 outside
    const graph = parseRangeGraph(line);
    const weight = rangeWeights(graph);
    const weights = (k: number, exclude = new Set<string>()) =>
      pickKSection(graph, weight, exclude, k).map((i) => weight[i]);
    expect(weights(1)).toEqual([50]);
    expect(weights(3)).toEqual([25, 50, 75]);
    expect(weights(4)).toEqual([20, 40, 60, 80]);
    // c50 (weight 50) is skipped: a neighbour stands in
    expect(weights(1, new Set(['c50']))).toEqual([49]);
    // fewer testable commits than boards: test them all
    expect(
      pickKSection(
        parseRangeGraph('c3 c2\nc2 c1\nc1 c0'),
        rangeWeights(parseRangeGraph('c3 c2\nc2 c1\nc1 c0')),
        new Set(['c3']),
        4,
      ),
    ).toHaveLength(2);
  });
});

describe("git's skip policy (bisect.c skip_away)", () => {
  it('reproduces its pseudo-random numbers and integer square root', () => {
    expect(gitSqrti(32768)).toBe(181);
    expect(gitSqrti(0)).toBe(0);
    for (let v = 1; v < 5000; v += 7) expect(gitSqrti(v)).toBe(Math.floor(Math.sqrt(v)));
    // count * 1103515245 + 12345 in 32-bit unsigned arithmetic, /65536 % 32768
    expect(gitPrn(1)).toBe(Math.floor(((1103515245 + 12345) >>> 0) / 65536) % 32768);
    expect(gitPrn(7)).toBe(Math.floor(((7 * 1103515245 + 12345) % 2 ** 32) / 65536) % 32768);
  });

  it('takes the best commit when it is not skipped, jumps away when it is, and never returns bad while others are testable', () => {
    const sorted = ['a', 'b', 'c', 'd', 'bad'];
    expect(pickWithSkips(sorted, new Set(['c']), 'bad').pick).toBe('a');
    const away = pickWithSkips(sorted, new Set(['a']), 'bad');
    expect(['b', 'c', 'd']).toContain(away.pick);
    expect(away.tried).toEqual(['a']);
    expect(pickWithSkips(sorted, new Set(['a', 'b', 'c', 'd']), 'bad')).toEqual({
      pick: 'bad',
      tried: ['a', 'b', 'c', 'd'],
    });
  });
});

interface Case {
  dir: string;
  commits: SyntheticCommit[];
  shas: string[];
  head: number;
  culprit: number;
  badSet: Set<string>;
  skipSet: Set<string>;
  oracle: (sha: string) => 'good' | 'bad' | 'skip';
}

/** A repository for the graph, a culprit, the commits that descend from it (bad) and some that cannot be tested. */
async function makeCase(
  shape: { seed: number; size: number; forkRate: number; mergeRate: number },
  culpritPick: number,
  skipRate: number,
): Promise<Case> {
  const commits = randomDag(shape.seed, shape);
  const h = await writeHistory(newDir(), commits);
  const culprit = 1 + (culpritPick % (commits.length - 1));
  const bad = descendants(commits, culprit);
  const badSet = new Set([...bad].map((i) => h.shas[i]));
  const skipSet = new Set<string>();
  // deterministic "random" untestable commits; never the head (the known-bad endpoint)
  commits.forEach((_, i) => {
    if (i > 0 && i !== h.head && ((i * 2654435761 + shape.seed) >>> 0) % 1000 < skipRate * 1000) skipSet.add(h.shas[i]);
  });
  const oracle = (sha: string) =>
    (skipSet.has(sha) ? 'skip' : badSet.has(sha) ? 'bad' : 'good') as 'good' | 'bad' | 'skip';
  return { dir: h.dir, commits, shas: h.shas, head: h.head, culprit, badSet, skipSet, oracle };
}

describe('bisection search against git bisect run on random commit graphs', () => {
  it('with one board tests exactly the commits git bisect run tests and reaches the same verdict (merges and skipped commits included)', async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, fc.nat(), fc.constantFrom(0, 0, 0.15, 0.3), async (shape, culpritPick, skipRate) => {
        const c = await makeCase(shape, culpritPick, skipRate);
        const git = await gitBisectRun(c.dir, {
          good: [c.shas[0]],
          bad: c.shas[c.head],
          badSet: c.badSet,
          skipSet: c.skipSet,
        });
        const ours = await simulateBisection(c.dir, { good: c.shas[0], bad: c.shas[c.head], k: 1, oracle: c.oracle });
        expect(ours.tested).toEqual(git.tested);
        expect(ours.culprit).toBe(git.culprit);
        expect(new Set(ours.suspects)).toEqual(new Set(git.suspects));
        if (c.skipSet.size === 0) expect(ours.culprit).toBe(c.shas[c.culprit]);
      }),
      { numRuns: 14 },
    );
  });

  it('with k boards finds the culprit git finds, in no more rounds than git bisect run takes steps', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagArb,
        fc.nat(),
        fc.integer({ min: 2, max: 4 }),
        fc.constantFrom(0, 0, 0.2),
        async (shape, culpritPick, k, skipRate) => {
          const c = await makeCase(shape, culpritPick, skipRate);
          const git = await gitBisectRun(c.dir, {
            good: [c.shas[0]],
            bad: c.shas[c.head],
            badSet: c.badSet,
            skipSet: c.skipSet,
          });
          const ours = await simulateBisection(c.dir, { good: c.shas[0], bad: c.shas[c.head], k, oracle: c.oracle });
          const known = c.shas[c.culprit];
          if (ours.culprit) expect(ours.culprit).toBe(known);
          else expect(ours.suspects).toContain(known);
          if (c.skipSet.size === 0) {
            expect(ours.culprit).toBe(known);
            expect(git.culprit).toBe(known);
            expect(ours.rounds).toBeLessThanOrEqual(git.tested.length);
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it('on a linear history of N commits takes at most ⌈log_{k+1} N⌉ + 1 rounds with k boards, about ⌈log_{k+1} N⌉ on average', async () => {
    const n = 200;
    const commits = randomDag(1, { size: n + 1, forkRate: 0 });
    const h = await writeHistory(newDir(), commits);
    // one board is git's own choice, compared above; here the gain of more boards
    for (const k of [2, 4]) {
      const bound = Math.ceil(Math.log(n) / Math.log(k + 1));
      const rounds: number[] = [];
      for (let culprit = 1; culprit <= n; culprit += 23) {
        const bad = descendants(commits, culprit);
        const r = await simulateBisection(h.dir, {
          good: h.shas[0],
          bad: h.shas[h.head],
          k,
          oracle: (s) => (bad.has(h.shas.indexOf(s)) ? 'bad' : 'good'),
        });
        expect(r.culprit).toBe(h.shas[culprit]);
        rounds.push(r.rounds);
      }
      expect(Math.max(...rounds)).toBeLessThanOrEqual(bound + 1);
      expect(rounds.reduce((a, b) => a + b, 0) / rounds.length).toBeLessThanOrEqual(bound);
    }
  });
});
