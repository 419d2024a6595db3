/**
 * The bisection's search state and how a round of results moves it. Pure and
 * deterministic: the workflow, the tests and the benchmark drive it the same
 * way. The commit graph itself is consulted through the candidates activity.
 */
import type { BisectCandidate, BisectRange, BisectSearchState, BisectStep, CandidateQuery } from '../../domain/bisect';
import { verdicts } from './evidence';

export function initialSearchState(range: BisectRange): BisectSearchState {
  return { range, good: [...range.good], bad: range.bad, skipped: [], steps: [], round: 0, remaining: [] };
}

export function candidateQuery(state: BisectSearchState, k: number): CandidateQuery {
  return { good: state.good, bad: state.bad, skipped: state.skipped, k };
}

/** Steps that searched (candidates), as opposed to endpoint checks. */
export function searchSteps(state: Pick<BisectSearchState, 'steps'>): BisectStep[] {
  return state.steps.filter((s) => s.role === 'candidate');
}

/**
 * Folds one round's results into the state.
 *
 * Passing candidates join the good set and skipped ones the skipped set, as
 * `git bisect good/skip` would. Several failing candidates: on a DAG each is a
 * bad bound, but the state keeps one bad commit (as git does). The new bad is
 * the failing candidate that reaches the fewest commits of the range: when one
 * failing candidate is an ancestor of another it reaches strictly fewer
 * commits, so the earliest one wins; failing candidates on parallel lines both
 * descend from the culprit (one culprit, every descendant bad), so either
 * holds it and the smaller range is the better bound. The others are dropped.
 */
export function applyRound(
  state: BisectSearchState,
  candidates: BisectCandidate[],
  results: BisectStep[],
): BisectSearchState {
  const weight = new Map(candidates.map((c) => [c.sha, c.weight]));
  // `<=`: among equal weights the last one is kept, which is the one the bisect log replays last
  const passed = results.filter((r) => r.verdict === 'good').map((r) => r.sha);
  const skipped = results.filter((r) => r.verdict === 'skip').map((r) => r.sha);
  const failed = results.filter((r) => r.verdict === 'bad').map((r) => r.sha);
  const newBad = failed.reduce<string | undefined>(
    (best, sha) => (best === undefined || (weight.get(sha) ?? 0) <= (weight.get(best) ?? 0) ? sha : best),
    undefined,
  );
  return {
    ...state,
    good: [...state.good, ...passed],
    skipped: [...state.skipped, ...skipped],
    bad: newBad ?? state.bad,
    steps: [...state.steps, ...results],
    round: state.round + 1,
  };
}

/** Good commits: the range's good bounds, unless re-tests turned one bad, and every commit judged good. */
export function goodCommits(state: BisectSearchState): string[] {
  const v = verdicts(state.steps);
  const judged = [...v].filter(([, verdict]) => verdict === 'good').map(([sha]) => sha);
  return [...new Set([...state.range.good.filter((g) => v.get(g) !== 'bad'), ...judged])];
}

/** Bad commits the search may bound by (not set aside), in the order they were first tested. */
export function liveBadCommits(state: BisectSearchState): string[] {
  const aside = new Set(state.setAside ?? []);
  return [...verdicts(state.steps)].filter(([sha, v]) => v === 'bad' && !aside.has(sha)).map(([sha]) => sha);
}

/**
 * The state rebuilt from the commits' current verdicts, after re-tests
 * changed some: good and skipped sets from the verdicts, the bad bound as
 * the commit graph gave it (bisectGraphCheck).
 */
export function rebuildState(state: BisectSearchState, bound: string | undefined): BisectSearchState {
  const v = verdicts(state.steps);
  return {
    ...state,
    good: goodCommits(state),
    skipped: [...v].filter(([, verdict]) => verdict === 'skip').map(([sha]) => sha),
    bad: bound ?? state.bad,
  };
}
