/**
 * The bisection on a noisy board: the search, the checks and what happens
 * when evidence contradicts itself. Deterministic and free of Temporal: it
 * reaches the commit graph, the board and the records through ports, which
 * the bisect workflow wires to activities and build-boot children, and the
 * benchmark and property tests to a repository and a simulated board.
 *
 * 1. Endpoints: each is booted `runs` times and judged (judge.ts); one that
 *    contradicts what it should be is booted again before the range is
 *    called invalid.
 * 2. Rounds: k candidates (the commit graph's choice), each judged. Before a
 *    round is applied, every verdict is checked against the graph: a bad
 *    commit that a good one descends from is impossible in a monotonic
 *    history. Both are re-tested; if the contradiction stands, the bad one
 *    is set aside, the search goes on between the good one and the bad
 *    commit (the breakage the maintainers see), and the verdict says so.
 * 3. A culprit is verified (booted again: it must fail) while the bad
 *    commit with the culprit reverted is built and booted (it must pass).
 *    A failed check sends the search back: the culprit (verify) or its
 *    parents (revert) are re-tested, and if a verdict changes the search
 *    continues from the corrected state, within twice the boots a clean
 *    board would need; otherwise the culprit is reported unconfirmed, with
 *    the evidence.
 */
import type {
  BisectCandidate,
  BisectCheck,
  BisectSearchState,
  BisectStep,
  BisectVerdict,
  CandidateQuery,
  CulpritInfo,
  GraphCheck,
  NextCandidates,
  RevertOutcome,
  StepRole,
  StepVerdict,
} from '../../domain/bisect';
import { sha12 } from '../../domain/ids';
import type { BisectConclusion } from './bisectLog';
import {
  endpointsCheck,
  foundVerdict,
  isConfirmed,
  judgedRevertCheck,
  judgedVerifyCheck,
  nonMonotonicText,
  notRun,
  withHistory,
} from './checks';
import { childIds } from './childIds';
import { bootsUsed, childrenRun, knownCommit, seenFlakeRate, verdicts, votesOf } from './evidence';
import { stepRunsFor, votesText } from './judge';
import { judgedTest, type BisectLab, type TestOutcome, type TestedCommit } from './judgedTest';
import { applyRound, candidateQuery, goodCommits, liveBadCommits, rebuildState } from './search';

export interface EngineSettings {
  bisectId: string;
  /** candidates per round */
  k: number;
  /** boots per step and endpoint, as configured (raised on a flaky board: judge.ts stepRunsFor) */
  stepRuns: number;
  /** the platform's flake rate the bisection was given, and the rate above which it is flaky */
  flakeRate: number;
  flakeThreshold: number;
  verifyRuns: number;
}

export interface BisectPorts {
  lab: BisectLab;
  candidates(q: CandidateQuery): Promise<NextCandidates>;
  graphCheck(q: { good: string[]; bad: string[] }): Promise<GraphCheck>;
  culpritInfo(sha: string): Promise<CulpritInfo>;
  prepareRevert(q: { bad: string; culprit: string }): Promise<RevertOutcome>;
  /** after each round is applied: records, continue-as-new */
  afterRound(state: BisectSearchState): Promise<void>;
  progress(text: string): void;
  /** where the bisection is and what it knows, as it moves on (its bisectProgress query reads it) */
  observe?(phase: SearchPhase, state: BisectSearchState): void;
}

/** The parts of a bisection its progress names; the checks are the culprit's verification and revert, run at once. */
export type SearchPhase = 'endpoints' | 'search' | 'checks';

export interface Concluded {
  state: BisectSearchState;
  verdict: BisectVerdict;
  conclusion: BisectConclusion;
  failingLogKey?: string;
}

/** boots of each commit a contradiction or a failed verification re-tests (at least) */
const RETEST_RUNS = 2;
/** failed verifications that may send the search back */
export const MAX_RECOVERIES = 3;

const STEP_ROLES: ReadonlySet<StepRole> = new Set<StepRole>(['good-endpoint', 'bad-endpoint', 'candidate', 'retest']);
const isStepChild = (s: BisectStep) => STEP_ROLES.has(s.role);

/**
 * Boots a bisection of this range needs on a clean board with these
 * settings: the endpoints and ⌈log2 N⌉ steps (k-section: k per round over
 * ⌈log_{k+1} N⌉ rounds) at `runs` boots each (the boots per step in force),
 * plus the verify and revert series. The recovery bound is twice this.
 */
export function cleanBoots(state: Pick<BisectSearchState, 'range'>, s: EngineSettings, runs: number): number {
  const n = Math.max(1, state.range.size);
  const rounds = Math.ceil(Math.log(n) / Math.log(s.k + 1) - 1e-9);
  return runs * (1 + state.range.good.length + s.k * rounds) + 2 * s.verifyRuns;
}

export function bisectEngine(settings: EngineSettings, ports: BisectPorts) {
  const ids = childIds(settings.bisectId);
  /** the board's flake rate: as given, or as this bisection has seen it, whichever is higher */
  const flakeRate = (state: BisectSearchState) => Math.max(settings.flakeRate, seenFlakeRate(state.steps));
  const stepRuns = (state: BisectSearchState) =>
    stepRunsFor({ stepRuns: settings.stepRuns, flakeRate: flakeRate(state), flakeThreshold: settings.flakeThreshold });
  const retestRuns = (state: BisectSearchState) => Math.max(RETEST_RUNS, stepRuns(state));

  function withOutcomes(state: BisectSearchState, outcomes: TestOutcome[]): BisectSearchState {
    const builds = { ...state.builds };
    for (const o of outcomes) if (o.kernel) builds[o.step.sha] = o.kernel;
    return { ...state, steps: [...state.steps, ...outcomes.map((o) => o.step)], builds };
  }

  /** A step of a range commit: judged with the commit's earlier votes, booting its earlier build. */
  function testStep(
    state: BisectSearchState,
    c: TestedCommit,
    role: StepRole,
    round: number,
    runs = stepRuns(state),
  ): Promise<TestOutcome> {
    const before = childrenRun(state.steps, c.sha, isStepChild);
    return judgedTest(
      ports.lab,
      c,
      {
        role,
        round,
        runs,
        prior: votesOf(state.steps, c.sha),
        decideOn: 'all',
        childId: (n) => ids.step(c.sha, before + n),
        prebuilt: state.builds?.[c.sha],
      },
      flakeRate(state),
    );
  }

  function commitOf(state: BisectSearchState, sha: string): TestedCommit {
    const known = knownCommit(state.steps, sha);
    return { sha, subject: known?.subject ?? '', describe: known?.describe ?? sha12(sha) };
  }

  /** Re-tests `commits` at once, noting what each came to. */
  async function retest(
    state: BisectSearchState,
    commits: TestedCommit[],
    round: number,
    why: string,
  ): Promise<BisectSearchState> {
    const before = verdicts(state.steps);
    ports.progress(`re-testing ${commits.map((c) => c.describe).join(', ')}: ${why}`);
    const outcomes = await Promise.all(commits.map((c) => testStep(state, c, 'retest', round, retestRuns(state))));
    const next = withOutcomes(state, outcomes);
    const notes = outcomes.map(({ step }) => {
      const was = before.get(step.sha);
      const change = was === undefined ? '' : was === step.verdict ? ', as before' : ` (was ${was})`;
      return `re-tested ${sha12(step.sha)} (${why}): ${votesText(votesOf(next.steps, step.sha))} in all: ${step.verdict}${change}`;
    });
    return { ...next, notes: [...(state.notes ?? []), ...notes] };
  }

  const graph = (state: BisectSearchState) =>
    ports.graphCheck({ good: goodCommits(state), bad: liveBadCommits(state) });

  /**
   * Checks the verdicts against the commit graph. A contradiction is
   * re-tested once; one that stands is a history that broke, was fixed and
   * broke again: its bad commit is set aside. `changed`: the state had to be
   * rebuilt from the verdicts (the plain round update does not apply).
   */
  async function settle(
    state: BisectSearchState,
    round: number,
    force = false,
  ): Promise<{ state: BisectSearchState; changed: boolean }> {
    let check = await graph(state);
    if (check.contradictions.length === 0 && !force) return { state, changed: false };
    if (check.contradictions.length > 0) {
      const involved = [...new Set(check.contradictions.flatMap((x) => [x.bad, x.good]))];
      state = await retest(
        state,
        involved.map((sha) => commitOf(state, sha)),
        round,
        'a failing commit is an ancestor of a booting one',
      );
      check = await graph(state);
    }
    if (check.contradictions.length > 0) {
      const aside = check.contradictions.map((x) => x.bad);
      state = {
        ...state,
        setAside: [...new Set([...(state.setAside ?? []), ...aside])],
        nonMonotonic: [...(state.nonMonotonic ?? []), ...check.contradictions],
        notes: [
          ...(state.notes ?? []),
          ...check.contradictions.map(
            (x) => `not monotonic: ${nonMonotonicText(x)}; searching between ${sha12(x.good)} and the bad commit`,
          ),
        ],
      };
    }
    return { state: rebuildState(state, check.bound), changed: true };
  }

  async function checkEndpoints(state: BisectSearchState): Promise<{ state: BisectSearchState; problem?: string }> {
    const r = state.range;
    const describe = (sha: string) => r.describes[sha] ?? sha12(sha);
    const ends: { c: TestedCommit; role: StepRole; expected: StepVerdict }[] = [
      { c: { sha: r.bad, subject: r.badSubject, describe: describe(r.bad) }, role: 'bad-endpoint', expected: 'bad' },
      ...r.good.map((g, i) => ({
        c: { sha: g, subject: r.goodSubjects[i] ?? '', describe: describe(g) },
        role: 'good-endpoint' as const,
        expected: 'good' as const,
      })),
    ];
    ports.progress('checking the endpoints');
    ports.observe?.('endpoints', state);
    const first = await Promise.all(ends.map((e) => testStep(state, e.c, e.role, 0)));
    state = withOutcomes(state, first);
    ports.observe?.('endpoints', state);
    // a good endpoint that failed, or a bad one that passed, is booted again before the range is called invalid
    const doubtful = ends.filter((e, i) => first[i].own !== 'build-failed' && first[i].step.verdict !== e.expected);
    if (doubtful.length > 0) {
      ports.progress(`booting ${doubtful.map((e) => e.c.describe).join(', ')} again: not what an endpoint should be`);
      const again = await Promise.all(doubtful.map((e) => testStep(state, e.c, e.role, 0, retestRuns(state))));
      state = withOutcomes(state, again);
    }
    return { state, problem: endpointsCheck(state.steps).problem };
  }

  async function round(state: BisectSearchState, candidates: BisectCandidate[], left: number) {
    const n = state.round + 1;
    ports.progress(`round ${n}, ${left} commits left, testing ${candidates.map((c) => c.describe).join(', ')}`);
    ports.observe?.('search', state);
    const outcomes = await Promise.all(candidates.map((c) => testStep(state, c, 'candidate', n)));
    const tested = withOutcomes(state, outcomes);
    const settled = await settle(tested, n);
    if (settled.changed) return { ...settled.state, round: n };
    return {
      ...applyRound(
        state,
        candidates,
        outcomes.map((o) => o.step),
      ),
      builds: tested.builds,
    };
  }

  async function revertSeries(state: BisectSearchState, culprit: string) {
    const bad = state.range.bad;
    const revert = await ports.prepareRevert({ bad, culprit });
    if (!revert.applied) return { revert, check: judgedRevertCheck(bad, culprit, revert) };
    const before = childrenRun(state.steps, revert.sha, (s) => s.role === 'revert');
    const test = await judgedTest(
      ports.lab,
      { sha: revert.sha, subject: `Revert of ${sha12(culprit)} on ${sha12(bad)}`, describe: revert.describe },
      {
        role: 'revert',
        round: state.round,
        runs: settings.verifyRuns,
        prior: { pass: 0, fail: 0 },
        decideOn: 'own',
        childId: (n) => ids.revert(culprit, before + n),
        revert: { bad, culprit },
        prebuilt: state.builds?.[revert.sha],
      },
      flakeRate(state),
    );
    return { revert, test, check: judgedRevertCheck(bad, culprit, { applied: true, sha: revert.sha, test }) };
  }

  function verifySeries(state: BisectSearchState, culprit: string): Promise<TestOutcome> {
    const before = childrenRun(state.steps, culprit, (s) => s.role === 'verify');
    return judgedTest(
      ports.lab,
      commitOf(state, culprit),
      {
        role: 'verify',
        round: state.round,
        runs: settings.verifyRuns,
        prior: votesOf(state.steps, culprit),
        decideOn: 'own',
        childId: (n) => ids.verify(culprit, before + n),
        prebuilt: state.builds?.[culprit],
      },
      flakeRate(state),
    );
  }

  /**
   * Verify and revert at once. Confirmed: done. Otherwise, while the bound
   * allows, re-test what the failed check contradicts and search again if a
   * verdict changed.
   */
  async function conclude(
    state: BisectSearchState,
    culprit: string,
  ): Promise<{ done: Concluded } | { again: BisectSearchState }> {
    ports.progress(
      `verifying ${sha12(culprit)} (${settings.verifyRuns} boots) and booting ${sha12(state.range.bad)} with it reverted`,
    );
    ports.observe?.('checks', state);
    const [info, verify, reverted] = await Promise.all([
      ports.culpritInfo(culprit),
      verifySeries(state, culprit),
      revertSeries(state, culprit),
    ]);
    state = withOutcomes(state, reverted.test ? [verify, reverted.test] : [verify]);
    const checks: BisectCheck[] = [
      endpointsCheck(state.steps).check,
      judgedVerifyCheck(culprit, verify),
      reverted.check,
    ];
    const done = (s: BisectSearchState, why?: string): { done: Concluded } => ({
      done: {
        state: s,
        verdict: withHistory(foundVerdict({ sha: culprit, subject: info.subject }, checks), {
          ...s,
          notes: [...(s.notes ?? []), ...(why ? [why] : [])],
        }),
        conclusion: { kind: 'found', sha: culprit, subject: info.subject },
        failingLogKey: failingLog(s.steps, culprit),
      },
    });
    if (isConfirmed(checks)) return done(state);

    // what the failed check contradicts: the culprit's "bad" (verify), its parents' "good" (revert)
    const verifyFailed = checks[1].outcome === 'failed';
    const revertFailed = reverted.check.outcome === 'failed';
    const suspects = verifyFailed ? [culprit] : revertFailed ? (info.parents ?? []) : [];
    if (suspects.length === 0) return done(state);
    const recoveries = state.recoveries ?? 0;
    const limit = 2 * cleanBoots(state, settings, stepRuns(state));
    if (recoveries >= MAX_RECOVERIES || bootsUsed(state.steps) >= limit)
      return done(
        state,
        `not re-tested further: ${bootsUsed(state.steps)} boots used (bound ${limit}), ${recoveries} re-test(s) of a failed verification`,
      );

    const before = verdicts(state.steps);
    const expected: StepVerdict = verifyFailed ? 'good' : 'bad';
    // the culprit's own verification boots may already have turned it; re-test what still contradicts
    const stale = suspects.filter((sha) => before.get(sha) !== expected);
    const commits = await Promise.all(
      stale.map(async (sha) => (knownCommit(state.steps, sha) ? commitOf(state, sha) : testedCommit(sha))),
    );
    const why = verifyFailed ? `verification of ${sha12(culprit)} failed` : `reverting ${sha12(culprit)} did not help`;
    if (commits.length > 0) state = await retest(state, commits, state.round, why);
    state = { ...state, recoveries: recoveries + 1 };
    const turned = suspects.filter((sha) => verdicts(state.steps).get(sha) === expected);
    if (turned.length === 0) return done(state);
    if (turned.includes(state.range.bad))
      return done(
        state,
        `the bad commit ${sha12(state.range.bad)} itself boots on re-test: the failure does not reproduce reliably`,
      );
    const goodTurned = turned.filter((sha) => state.range.good.includes(sha));
    if (goodTurned.length > 0)
      return {
        done: invalid(
          state,
          `endpoints don't reproduce: good ${goodTurned.map(sha12).join(', ')} failed on re-test (${goodTurned.map((g) => votesText(votesOf(state.steps, g))).join('; ')})`,
        ),
      };
    state = (await settle(state, state.round, true)).state;
    return {
      again: {
        ...state,
        notes: [
          ...(state.notes ?? []),
          `${why}: ${turned.map(sha12).join(', ')} ${turned.length === 1 ? 'is' : 'are'} ${expected} after all; searching again`,
        ],
      },
    };
  }

  async function testedCommit(sha: string): Promise<TestedCommit> {
    const info = await ports.culpritInfo(sha);
    return { sha, subject: info.subject, describe: info.describe };
  }

  function invalid(state: BisectSearchState, problem = endpointsCheck(state.steps).problem): Concluded {
    const summary = problem ?? 'endpoints failed';
    const check: BisectCheck = { name: 'endpoints', outcome: 'failed', detail: summary };
    return {
      state,
      verdict: withHistory(
        {
          status: 'invalid',
          summary,
          confirmed: false,
          checks: [check, notRun('verify', 'endpoints failed'), notRun('revert', 'endpoints failed')],
        },
        state,
      ),
      conclusion: { kind: 'none' },
    };
  }

  function notFound(state: BisectSearchState, suspects: string[]): Concluded {
    const subjectOf = new Map(state.steps.map((s) => [s.sha, s.subject]));
    return {
      state,
      verdict: withHistory(
        {
          status: 'not-found',
          summary: `only skipped commits left to test: the first bad commit is one of ${suspects.length}`,
          suspects,
          confirmed: false,
          checks: [
            endpointsCheck(state.steps).check,
            notRun('verify', 'no single culprit'),
            notRun('revert', 'no single culprit'),
          ],
        },
        state,
      ),
      conclusion: {
        kind: 'only-skipped',
        suspects: suspects.map((sha) => ({ sha, subject: subjectOf.get(sha) ?? '' })),
      },
    };
  }

  /** Rounds until the graph names a culprit (checked, and searched again if the checks send it back) or only skips are left. */
  async function search(state: BisectSearchState): Promise<Concluded> {
    for (;;) {
      const next = await ports.candidates(candidateQuery(state, settings.k));
      state = { ...state, remaining: [...state.remaining, next.remaining] };
      if (next.kind === 'only-skipped') return notFound(state, next.suspects);
      if (next.kind === 'found') {
        const r = await conclude(state, next.culprit);
        if ('done' in r) return r.done;
        state = r.again;
        continue;
      }
      state = await round(state, next.candidates, next.remaining);
      await ports.afterRound(state);
    }
  }

  return { checkEndpoints, search, invalid };
}

/** The culprit's failing boot log: from its verification, else from its step. */
function failingLog(steps: BisectStep[], culprit: string): string | undefined {
  const mine = steps.filter((s) => s.sha === culprit && s.boot === 'fail' && s.logKey);
  return (mine.find((s) => s.role === 'verify') ?? mine[0])?.logKey;
}
