/**
 * What a bisection's steps add up to, commit by commit: the boots of every
 * step of a commit are votes on it, and its verdict is the one its latest
 * step was judged to (over all its votes). Pure.
 */
import type { BisectStep, StepRole, StepVerdict } from '../../domain/bisect';
import type { Votes } from './judge';

/** Roles whose boots are of a commit of the range; a revert step boots Bootfarm's own commit. */
const SEARCH_ROLES: ReadonlySet<StepRole> = new Set<StepRole>([
  'good-endpoint',
  'bad-endpoint',
  'candidate',
  'retest',
  'verify',
]);

export const isSearchStep = (s: BisectStep) => SEARCH_ROLES.has(s.role);

/** A step's votes; a step recorded before votes were kept booted once, its verdict being that boot's. */
export function stepVotes(s: BisectStep): Votes {
  if (s.passes !== undefined || s.fails !== undefined) return { pass: s.passes ?? 0, fail: s.fails ?? 0 };
  return { pass: s.verdict === 'good' ? 1 : 0, fail: s.verdict === 'bad' ? 1 : 0 };
}

export const addVotes = (a: Votes, b: Votes): Votes => ({ pass: a.pass + b.pass, fail: a.fail + b.fail });

/** All votes on `sha` so far. */
export function votesOf(steps: BisectStep[], sha: string): Votes {
  return steps
    .filter((s) => s.sha === sha && isSearchStep(s))
    .reduce((v, s) => addVotes(v, stepVotes(s)), { pass: 0, fail: 0 });
}

/**
 * The flake rate this bisection has seen. A kernel that booted once is good
 * (a broken one boots by chance only rarely), so its failed boots were the
 * board's: their share of the boots of such kernels, revert commits
 * included. Two phantom passes keep one disagreement from making a board
 * look hopeless; on a board that never contradicts itself it is 0.
 */
export function seenFlakeRate(steps: BisectStep[]): number {
  const bySha = new Map<string, Votes>();
  for (const s of steps) bySha.set(s.sha, addVotes(bySha.get(s.sha) ?? { pass: 0, fail: 0 }, stepVotes(s)));
  let fails = 0;
  let boots = 0;
  for (const v of bySha.values())
    if (v.pass > 0) {
      fails += v.fail;
      boots += v.pass + v.fail;
    }
  return fails / (boots + 2);
}

/** Each tested commit's current verdict, in the order the commits were first tested. */
export function verdicts(steps: BisectStep[]): Map<string, StepVerdict> {
  const out = new Map<string, StepVerdict>();
  for (const s of steps) if (isSearchStep(s)) out.set(s.sha, s.verdict);
  return out;
}

/** Build-boot children run so far for `sha` with `roles` (numbers the next child's id). */
export function childrenRun(steps: BisectStep[], sha: string, roles: (s: BisectStep) => boolean): number {
  return steps.filter((s) => s.sha === sha && roles(s)).reduce((n, s) => n + s.attempts, 0);
}

/** Boots run in all; a step recorded before boots were counted booted once if it has a boot status. */
export function bootsUsed(steps: BisectStep[]): number {
  return steps.reduce((n, s) => n + (s.boots ?? (s.boot ? 1 : 0)), 0);
}

/** The latest known subject and describe of a commit the bisection tested. */
export function knownCommit(
  steps: BisectStep[],
  sha: string,
): { sha: string; subject: string; describe?: string } | undefined {
  const s = [...steps].reverse().find((x) => x.sha === sha);
  return s && { sha, subject: s.subject, describe: s.describe };
}
