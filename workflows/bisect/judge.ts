/**
 * What a commit's boots say about it, on a board that is not perfect. Pure.
 *
 * A boot can be wrong two ways: a good kernel fails anyway (the board's
 * flake rate f: a lost console, a hung firmware), or a broken kernel boots
 * anyway (an intermittent bug; assumed rare, ε). Each boot is a vote weighted
 * by how much it tells on this board, its log-likelihood ratio:
 *
 *   a pass votes "good" with weight ln((1 − f) / ε)
 *   a fail votes "bad"  with weight ln((1 − ε) / f)
 *
 * On a clean board (f small) both weigh about the same and this is a plain
 * majority; on a board failing 1 boot in 5, a failure is weak evidence (it
 * happens to good kernels) and one pass outweighs two failures. A verdict
 * needs a weighted lead of ln 19, odds of 19 to 1; anything less is a split,
 * which is re-tested with more boots.
 */
import { DEFAULT_FLAKE_THRESHOLD, type BisectInput } from '../../domain/bisect';

export interface Votes {
  pass: number;
  fail: number;
}

export type Judgement = 'good' | 'bad' | 'split';

/** How often a broken kernel boots anyway: the pass side of the noise. */
export const BROKEN_BOOTS = 0.02;
/** No board is perfect: the least flake rate assumed, so that one clean boot decides but two disagreeing do not. */
export const MIN_FLAKE_RATE = 0.01;
/** Past this a board fails most good kernels; the weights still order evidence, but verdicts cost many boots. */
const MAX_FLAKE_RATE = 0.9;
/** The weighted lead a verdict needs: odds of 19 to 1. */
const LEAD = Math.log(19);

function boardFlakeRate(flakeRate: number | undefined): number {
  const f = Number.isFinite(flakeRate) ? (flakeRate as number) : 0;
  return Math.min(MAX_FLAKE_RATE, Math.max(MIN_FLAKE_RATE, f));
}

/** The weighted lead of "good" over "bad" (negative: bad leads). */
export function voteLead(v: Votes, flakeRate: number): number {
  const f = boardFlakeRate(flakeRate);
  return v.pass * Math.log((1 - f) / BROKEN_BOOTS) - v.fail * Math.log((1 - BROKEN_BOOTS) / f);
}

export function judge(v: Votes, flakeRate: number): Judgement {
  const lead = voteLead(v, flakeRate);
  if (lead >= LEAD) return 'good';
  if (lead <= -LEAD) return 'bad';
  return 'split';
}

/** Boots per step: the configured number, and at least 2 on a platform whose flake rate is above the threshold. */
export function stepRunsFor(input: Pick<BisectInput, 'stepRuns' | 'flakeRate' | 'flakeThreshold'>): number {
  const runs = Math.max(1, Math.floor(input.stepRuns ?? 1));
  const flaky = (input.flakeRate ?? 0) > (input.flakeThreshold ?? DEFAULT_FLAKE_THRESHOLD);
  return flaky ? Math.max(2, runs) : runs;
}

export const votesText = (v: Votes) =>
  `${v.pass} ${v.pass === 1 ? 'pass' : 'passes'}, ${v.fail} ${v.fail === 1 ? 'failure' : 'failures'}`;
