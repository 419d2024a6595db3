/**
 * bench/bisect: build-boot steps and rounds of Bootfarm's bisection with
 * k = 1, 2, 4 boards against `git bisect run` on the same histories.
 *
 *   npx tsx bench/bisect.ts [--culprits 10] [--sizes 100,1000,10000]
 *
 * Histories are real git repositories of empty commits written with git
 * fast-import: a line, and a mainline with topic branches forked and merged
 * back (about one commit in four is on a topic). For each history, culprits
 * are spread evenly over it; the oracle says "bad" for the culprit and every
 * commit that descends from it. The bisection runs the real candidates
 * activity code and the real search state machine (workflow logic without
 * Temporal, test/bisect/support/simulate.ts); `git bisect run` runs a script
 * answering from the same oracle. A step is one build-boot; a round is one
 * batch of k steps run in parallel, i.e. the wall-clock cost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { descendants, randomDag, writeHistory, type SyntheticHistory } from '../test/bisect/support/syntheticHistory';
import { gitBisectRun } from '../test/bisect/support/gitBisectRun';
import { simulateBisection } from '../test/bisect/support/simulate';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const CULPRITS = Number(arg('culprits', '10'));
const SIZES = arg('sizes', '100,1000,10000').split(',').map(Number);
const KS = [1, 2, 4];

interface Stats {
  mean: number;
  max: number;
}
const stats = (xs: number[]): Stats => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) });
const fmt = (s: Stats) => `${s.mean.toFixed(1)} / ${s.max}`;
const logCeil = (n: number, base: number) => Math.ceil(Math.log(n) / Math.log(base) - 1e-9);

interface Row {
  size: number;
  shape: string;
  git: Stats;
  steps: Record<number, Stats>;
  rounds: Record<number, Stats>;
  seconds: number;
}

async function measure(h: SyntheticHistory, shape: string): Promise<Row> {
  const started = Date.now();
  const n = h.commits.length - 1; // commits in good..bad: all but the root
  const git: number[] = [];
  const steps: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const rounds: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  for (let i = 0; i < CULPRITS; i++) {
    const culprit = 1 + Math.floor(((i + 0.5) * n) / CULPRITS);
    const badIdx = descendants(h.commits, culprit);
    const badSet = new Set([...badIdx].map((j) => h.shas[j]));
    const good = h.shas[0];
    const bad = h.shas[h.head];
    const ref = await gitBisectRun(h.dir, { good: [good], bad, badSet });
    if (ref.culprit !== h.shas[culprit])
      throw new Error(`git bisect found ${ref.culprit}, not the culprit ${h.shas[culprit]}`);
    git.push(ref.tested.length);
    for (const k of KS) {
      const r = await simulateBisection(h.dir, { good, bad, k, oracle: (sha) => (badSet.has(sha) ? 'bad' : 'good') });
      if (r.culprit !== h.shas[culprit])
        throw new Error(`k=${k} found ${r.culprit}, not the culprit ${h.shas[culprit]}`);
      steps[k].push(r.tested.length);
      rounds[k].push(r.rounds);
    }
  }
  return {
    size: n,
    shape,
    git: stats(git),
    steps: Object.fromEntries(KS.map((k) => [k, stats(steps[k])])),
    rounds: Object.fromEntries(KS.map((k) => [k, stats(rounds[k])])),
    seconds: (Date.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bootfarm-bench-bisect-'));
  const rows: Row[] = [];
  try {
    for (const size of SIZES) {
      for (const [shape, forkRate] of [
        ['linear', 0],
        ['merges', 0.15],
      ] as const) {
        const commits = randomDag(size, { size: size + 1, forkRate, mergeRate: 0.2 });
        const h = await writeHistory(join(dir, `${shape}-${size}`), commits);
        const merges = commits.filter((c) => c.parents.length > 1).length;
        const row = await measure(h, merges ? `merges (${merges})` : shape);
        rows.push(row);
        process.stderr.write(`${shape} ${size}: ${row.seconds.toFixed(0)} s\n`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  console.log(`\nbisect: ${CULPRITS} culprits per history, spread evenly; mean / max over culprits`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}\n`);
  const head = [
    'N',
    'history',
    'git bisect run steps',
    'k=1 steps',
    'k=1 rounds',
    'k=2 steps',
    'k=2 rounds',
    'k=4 steps',
    'k=4 rounds',
    '⌈log2 N⌉',
    '⌈log3 N⌉',
    '⌈log5 N⌉',
  ];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const cells = [
      String(r.size),
      r.shape,
      fmt(r.git),
      ...KS.flatMap((k) => [fmt(r.steps[k]), fmt(r.rounds[k])]),
      String(logCeil(r.size, 2)),
      String(logCeil(r.size, 3)),
      String(logCeil(r.size, 5)),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
