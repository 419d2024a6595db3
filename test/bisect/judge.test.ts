/**
 * How a bisection weighs boots (workflows/bisect/judge.ts, judgedTest.ts,
 * evidence.ts): pure, against a simulated board with seeded randomness.
 */
import { judge, stepRunsFor, voteLead } from '../../workflows/bisect/judge';
import { judgedTest, type BisectLab } from '../../workflows/bisect/judgedTest';
import { seenFlakeRate } from '../../workflows/bisect/evidence';
import type { BisectStep } from '../../domain/bisect';
import { prng } from './support/syntheticHistory';

describe('a boot is a vote weighed by what it tells on this board', () => {
  it('on a clean board one boot decides, and two that disagree do not', () => {
    expect(judge({ pass: 1, fail: 0 }, 0)).toBe('good');
    expect(judge({ pass: 0, fail: 1 }, 0)).toBe('bad');
    expect(judge({ pass: 1, fail: 1 }, 0)).toBe('split');
    expect(judge({ pass: 2, fail: 1 }, 0)).toBe('good');
  });

  it('on a board failing 1 boot in 5, a failure is weak evidence and a pass strong evidence', () => {
    const f = 0.2;
    expect(judge({ pass: 0, fail: 1 }, f)).toBe('split');
    expect(judge({ pass: 0, fail: 2 }, f)).toBe('bad');
    expect(judge({ pass: 1, fail: 0 }, f)).toBe('good');
    // one pass outweighs two failures, not five
    expect(voteLead({ pass: 1, fail: 2 }, f)).toBeGreaterThan(0);
    expect(judge({ pass: 1, fail: 2 }, f)).toBe('split');
    expect(judge({ pass: 1, fail: 5 }, f)).toBe('bad');
  });

  it('boots every step at least twice on a platform whose flake rate is above the threshold', () => {
    expect(stepRunsFor({})).toBe(1);
    expect(stepRunsFor({ stepRuns: 3 })).toBe(3);
    expect(stepRunsFor({ flakeRate: 0.05 })).toBe(1); // at the default threshold, not above it
    expect(stepRunsFor({ flakeRate: 0.06 })).toBe(2);
    expect(stepRunsFor({ flakeRate: 0.2, flakeThreshold: 0.3 })).toBe(1);
    expect(stepRunsFor({ flakeRate: 0.2, stepRuns: 3 })).toBe(3);
  });

  it('sees a board fail kernels that booted, and nothing on a board that never contradicts itself', () => {
    const step = (sha: string, passes: number, fails: number): BisectStep => ({
      sha,
      subject: '',
      role: 'candidate',
      round: 1,
      verdict: passes >= fails ? 'good' : 'bad',
      build: 'pass',
      attempts: 1,
      workflowId: '',
      message: '',
      passes,
      fails,
    });
    expect(seenFlakeRate([step('a', 2, 0), step('b', 0, 2)])).toBe(0);
    // a booted 3 times of 4: its failure was the board's; b never booted (a broken kernel): not counted
    expect(seenFlakeRate([step('a', 2, 0), step('a', 1, 1), step('b', 0, 5)])).toBeCloseTo(1 / 6);
  });
});

describe('a step on a board failing good kernels 1 boot in 5 (2000 seeded steps each)', () => {
  const board = (seed: number, kernel: 'pass' | 'fail'): BisectLab => {
    const rnd = prng(seed);
    return {
      async boot(order) {
        return {
          build: 'pass',
          boots: Array.from({ length: order.runs }, () => ({
            status: kernel === 'pass' && rnd() < 0.2 ? ('fail' as const) : kernel,
            message: '',
          })),
        };
      },
    };
  };
  const test = (lab: BisectLab) =>
    judgedTest(
      lab,
      { sha: 'a'.repeat(40), subject: '', describe: '' },
      { role: 'candidate', round: 1, runs: 2, prior: { pass: 0, fail: 0 }, decideOn: 'all', childId: (n) => `c${n}` },
      0.2,
    );

  it('never judges a broken kernel good, and a good one bad in under 5 % of steps', async () => {
    let wrong = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      expect((await test(board(seed, 'fail'))).step.verdict).toBe('bad');
      if ((await test(board(seed, 'pass'))).step.verdict !== 'good') wrong++;
    }
    expect(wrong / 2000).toBeLessThan(0.05);
  });
});
