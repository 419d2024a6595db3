/**
 * bench/bisect-noisy: bisections on a board that fails good kernels now and
 * then. Over seeded trials, how often each bisection names the true
 * culprit, and the boots it used, for:
 *
 *   - Bootfarm on the flaky board, told the board's flake rate (so every
 *     step is booted at least twice and votes are weighed by it);
 *   - Bootfarm on the flaky board, told nothing (flake rate 0: one boot per
 *     step until the board is seen failing a kernel that booted; the graph
 *     check and the failed-verification re-tests defend);
 *   - Bootfarm on a clean board (the same trials without flakes);
 *   - `git bisect run` on the flaky board (each commit booted once, trusted).
 *
 *   npx tsx bench/bisect-noisy.ts [--trials 20] [--size 48] [--flake 0.2] [--k 1] [--seed 1]
 *
 * Each trial is a real git repository of empty commits (a mainline with
 * topic branches merged back; test/bisect/support/syntheticHistory.ts), a
 * culprit drawn at random (every descendant fails to boot), and a board
 * that fails a good kernel's boot with probability --flake, drawn from a
 * PRNG seeded per trial so a run replays. Bootfarm's side is the bisect
 * workflow's engine (workflows/bisect/engine.ts) through the real
 * candidates, graph-check and culprit activity code, without Temporal
 * (test/bisect/support/simulate.ts); a boot is one boot of a build, a build
 * is not counted. `git bisect run` runs a script that answers as the flaky
 * board did the one time it booted each commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendants, prng, randomDag, writeHistory } from '../test/bisect/support/syntheticHistory';
import { gitBisectRun } from '../test/bisect/support/gitBisectRun';
import { perfectBoard, simulateBisection, type Board } from '../test/bisect/support/simulate';
import { stepRunsFor } from '../workflows/bisect/judge';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const TRIALS = Number(arg('trials', '20'));
const SIZE = Number(arg('size', '48'));
const FLAKE = Number(arg('flake', '0.2'));
const K = Number(arg('k', '1'));
const SEED = Number(arg('seed', '1'));

interface Outcome {
  right: boolean;
  /** the true culprit, confirmed (its author is mailed) */
  confirmed: boolean;
  /** another commit, confirmed: an innocent author mailed */
  wrongConfirmed: boolean;
  boots: number;
}

const flakyBoard =
  (rnd: () => number): Board =>
  (kernel) =>
    kernel === 'pass' && rnd() < FLAKE ? 'fail' : kernel;

async function trial(dir: string, t: number): Promise<Record<string, Outcome>> {
  const seed = SEED * 1000 + t;
  const commits = randomDag(seed, { size: SIZE + 1, forkRate: 0.15, mergeRate: 0.3 });
  const h = await writeHistory(join(dir, `t${t}`), commits);
  const pick = prng(seed ^ 0x5eed);
  const culprit = 1 + Math.floor(pick() * (commits.length - 1));
  const bad = new Set([...descendants(commits, culprit)].map((i) => h.shas[i]));
  const oracle = (sha: string) => (bad.has(sha) ? 'bad' : 'good') as 'good' | 'bad';
  const truth = h.shas[culprit];
  const base = { good: h.shas[0], bad: h.shas[h.head], k: K, oracle };
  const judged = (r: { culprit?: string; confirmed: boolean; boots: number }): Outcome => ({
    right: r.culprit === truth,
    confirmed: r.confirmed && r.culprit === truth,
    wrongConfirmed: r.confirmed && r.culprit !== truth,
    boots: r.boots,
  });

  const told = await simulateBisection(h.dir, {
    ...base,
    board: flakyBoard(prng(seed)),
    flakeRate: FLAKE,
  });
  const untold = await simulateBisection(h.dir, { ...base, board: flakyBoard(prng(seed)) });
  const clean = await simulateBisection(h.dir, { ...base, board: perfectBoard });
  // git bisect run boots each commit it tests once: a good one fails with probability FLAKE
  const rnd = prng(seed);
  const seen = new Set([...h.shas].filter((s) => bad.has(s) || rnd() < FLAKE));
  const git = await gitBisectRun(h.dir, { good: [h.shas[0]], bad: h.shas[h.head], badSet: seen });
  return {
    told: judged(told),
    untold: judged(untold),
    clean: judged(clean),
    git: { right: git.culprit === truth, confirmed: false, wrongConfirmed: false, boots: git.tested.length },
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bootfarm-bench-bisect-noisy-'));
  const rows: Record<string, Outcome>[] = [];
  const started = Date.now();
  try {
    for (let t = 0; t < TRIALS; t++) {
      rows.push(await trial(dir, t));
      const r = rows[rows.length - 1];
      process.stderr.write(
        `trial ${t + 1}/${TRIALS}: told ${r.told.right ? 'right' : 'WRONG'} ${r.told.boots} boots, clean ${r.clean.boots}, git ${r.git.right ? 'right' : 'wrong'}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const sides: [string, string][] = [
    ['told', `Bootfarm, flaky board, told its flake rate (${stepRunsFor({ flakeRate: FLAKE })}+ boots per step)`],
    ['untold', 'Bootfarm, flaky board, not told (1 boot per step until it sees the board lie)'],
    ['clean', 'Bootfarm, clean board'],
    ['git', '`git bisect run`, flaky board (no verify, no revert)'],
  ];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cleanBoots = mean(rows.map((r) => r.clean.boots));
  console.log(
    `\nbisect-noisy: ${TRIALS} trials, ${SIZE} commits (mainline with merged topics), k = ${K}, board failing good kernels' boots with p = ${FLAKE}, seed ${SEED}`,
  );
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log(
    '| bisection | true culprit named | true culprit confirmed | wrong culprit confirmed | boots mean | boots max | boots / clean |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [key, name] of sides) {
    const xs = rows.map((r) => r[key]);
    const boots = xs.map((x) => x.boots);
    console.log(
      `| ${name} | ${xs.filter((x) => x.right).length}/${TRIALS} | ${key === 'git' ? '—' : `${xs.filter((x) => x.confirmed).length}/${TRIALS}`} | ${key === 'git' ? '—' : `${xs.filter((x) => x.wrongConfirmed).length}/${TRIALS}`} | ${mean(boots).toFixed(1)} | ${Math.max(...boots)} | ${(mean(boots) / cleanBoots).toFixed(2)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
