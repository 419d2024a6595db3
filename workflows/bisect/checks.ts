/**
 * The trust checks of a bisection and the verdict they add up to. Pure.
 *
 * - endpoints: the good commit(s) boot and the bad one fails, before any
 *   search; otherwise the search would find nothing meaningful.
 * - verify: the culprit's kernel fails again, booted `runs` times.
 * - revert: the bad commit with the culprit reverted boots, `runs` times
 *   (not applicable when the revert does not apply cleanly or does not build).
 * A culprit is confirmed when verify passed and revert passed or could not apply.
 *
 * `verifyCheck` and `revertCheck` judge the series of bisections started
 * before votes were weighed (all boots must agree); `judgedVerifyCheck` and
 * `judgedRevertCheck` judge by the weighted vote of judge.ts.
 */
import { sha12 } from '../../domain/ids';
import type { BootResult } from '../../domain/types';
import type { BisectCheck, BisectStep, BisectVerdict, NonMonotonic, StepRole } from '../../domain/bisect';
import { addVotes, stepVotes } from './evidence';
import { votesText, type Votes } from './judge';
import type { TestOutcome } from './judgedTest';

const ENDPOINT_ROLES: ReadonlySet<StepRole> = new Set<StepRole>(['good-endpoint', 'bad-endpoint']);

/** Each endpoint's latest step and the votes of all its endpoint steps (a doubtful endpoint is booted again). */
function endpoints(steps: BisectStep[]): { step: BisectStep; votes: Votes }[] {
  const bySha = new Map<string, { step: BisectStep; votes: Votes }>();
  for (const s of steps.filter((x) => ENDPOINT_ROLES.has(x.role))) {
    const votes = addVotes(bySha.get(s.sha)?.votes ?? { pass: 0, fail: 0 }, stepVotes(s));
    bySha.set(s.sha, { step: s, votes });
  }
  return [...bySha.values()];
}

/** " (2 passes, 1 failure)" after more than one boot; nothing after one, as bisections always said. */
const tally = (v: Votes) => (v.pass + v.fail > 1 ? ` (${votesText(v)})` : '');

function endpointProblem({ step, votes }: { step: BisectStep; votes: Votes }): string | undefined {
  const expected = step.role === 'good-endpoint' ? 'good' : 'bad';
  if (step.verdict === expected) return undefined;
  if (step.verdict === 'skip') {
    if (step.build === 'fail') return `${expected} ${sha12(step.sha)} does not build (${step.message})`;
    return `${expected} ${sha12(step.sha)} could not be tested (${step.message})`;
  }
  return expected === 'good'
    ? `good ${sha12(step.sha)} failed${step.message ? ` (${step.message})` : ''}${tally(votes)}`
    : `bad ${sha12(step.sha)} passed${tally(votes)}`;
}

/**
 * The endpoints check; with a `problem` the bisection stops. A boot verdict
 * against expectations means the regression does not reproduce; a skip only
 * that it could not be checked.
 */
export function endpointsCheck(steps: BisectStep[]): { check: BisectCheck; problem?: string } {
  const ends = endpoints(steps);
  const problems = ends.map(endpointProblem).filter((p): p is string => p !== undefined);
  if (problems.length === 0) {
    const list = (role: StepRole) =>
      ends
        .filter((e) => e.step.role === role)
        .map((e) => `${sha12(e.step.sha)}${tally(e.votes)}`)
        .join(', ');
    return {
      check: {
        name: 'endpoints',
        outcome: 'passed',
        detail: `good ${list('good-endpoint')} passed; bad ${list('bad-endpoint')} failed`,
      },
    };
  }
  const contradicted = ends.some((e) => e.step.verdict !== 'skip' && endpointProblem(e) !== undefined);
  const problem = `${contradicted ? "endpoints don't reproduce" : 'endpoints could not be checked'}: ${problems.join('; ')}`;
  return { check: { name: 'endpoints', outcome: 'failed', detail: problem }, problem };
}

function countBoots(boots: BootResult[]) {
  return {
    pass: boots.filter((b) => b.status === 'pass').length,
    fail: boots.filter((b) => b.status === 'fail').length,
  };
}

export function verifyCheck(culprit: string, boots: BootResult[], runs: number, note?: string): BisectCheck {
  const { pass, fail } = countBoots(boots);
  const what = `${sha12(culprit)} booted ${runs} times`;
  if (fail >= runs && pass === 0)
    return { name: 'verify', outcome: 'passed', detail: `${what}: failed ${fail} of ${fail}` };
  if (pass > 0)
    return { name: 'verify', outcome: 'failed', detail: `${what}: failed ${fail}, passed ${pass}: not reproducible` };
  return {
    name: 'verify',
    outcome: 'failed',
    detail: `${what}: only ${fail} gave a verdict${note ? ` (${note})` : ''}`,
  };
}

export function revertCheck(
  bad: string,
  culprit: string,
  outcome: { applied: false; reason: string } | { applied: true; sha: string; boots: BootResult[]; note?: string },
  runs: number,
): BisectCheck {
  if (!outcome.applied) return revertNotApplicable(bad, culprit, outcome.reason);
  const { pass, fail } = countBoots(outcome.boots);
  const what = `${sha12(bad)} with ${sha12(culprit)} reverted (${sha12(outcome.sha)}) booted ${runs} times`;
  if (pass >= runs && fail === 0)
    return { name: 'revert', outcome: 'passed', detail: `${what}: passed ${pass} of ${pass}` };
  if (fail > 0) return { name: 'revert', outcome: 'failed', detail: `${what}: failed ${fail}, passed ${pass}` };
  return {
    name: 'revert',
    outcome: 'failed',
    detail: `${what}: only ${pass} gave a verdict${outcome.note ? ` (${outcome.note})` : ''}`,
  };
}

function revertNotApplicable(bad: string, culprit: string, reason: string): BisectCheck {
  return {
    name: 'revert',
    outcome: 'not-applicable',
    detail: `reverting ${sha12(culprit)} on ${sha12(bad)} does not apply cleanly: ${reason}`,
  };
}

/** The culprit's verification boots, judged by their own weighted vote: they must say "bad". */
export function judgedVerifyCheck(culprit: string, t: TestOutcome): BisectCheck {
  const what = `${sha12(culprit)} booted ${t.step.boots ?? 0} times: ${votesText(stepVotes(t.step))}`;
  if (t.own === 'bad') return { name: 'verify', outcome: 'passed', detail: `${what}: fails` };
  if (t.own === 'good') return { name: 'verify', outcome: 'failed', detail: `${what}: boots, not reproducible` };
  if (t.own === 'split') return { name: 'verify', outcome: 'failed', detail: `${what}: undecided` };
  return { name: 'verify', outcome: 'not-run', detail: `${sha12(culprit)} could not be booted: ${t.step.message}` };
}

/**
 * The revert's boots, judged by their own weighted vote: they must say
 * "good". A revert that does not apply or does not build says nothing about
 * the culprit (not applicable), nor do boots lost to the infrastructure.
 */
export function judgedRevertCheck(
  bad: string,
  culprit: string,
  revert: { applied: false; reason: string } | { applied: true; sha: string; test: TestOutcome },
): BisectCheck {
  if (!revert.applied) return revertNotApplicable(bad, culprit, revert.reason);
  const t = revert.test;
  const reverted = `${sha12(bad)} with ${sha12(culprit)} reverted (${sha12(revert.sha)})`;
  if (t.own === 'build-failed')
    return { name: 'revert', outcome: 'not-applicable', detail: `${reverted} does not build: ${t.step.message}` };
  if (t.own === 'no-verdict')
    return { name: 'revert', outcome: 'not-run', detail: `${reverted} could not be booted: ${t.step.message}` };
  const what = `${reverted} booted ${t.step.boots ?? 0} times: ${votesText(stepVotes(t.step))}`;
  if (t.own === 'good') return { name: 'revert', outcome: 'passed', detail: `${what}: boots` };
  return { name: 'revert', outcome: 'failed', detail: `${what}: ${t.own === 'bad' ? 'still fails' : 'undecided'}` };
}

export function notRun(name: 'verify' | 'revert', why: string): BisectCheck {
  return { name, outcome: 'not-run', detail: why };
}

export function isConfirmed(checks: BisectCheck[]): boolean {
  const outcome = (n: string) => checks.find((c) => c.name === n)?.outcome;
  return (
    outcome('endpoints') === 'passed' &&
    outcome('verify') === 'passed' &&
    (outcome('revert') === 'passed' || outcome('revert') === 'not-applicable')
  );
}

export function foundVerdict(culprit: { sha: string; subject: string }, checks: BisectCheck[]): BisectVerdict {
  const confirmed = isConfirmed(checks);
  const failed = checks.filter((c) => c.outcome === 'failed').map((c) => c.name);
  const summary = confirmed
    ? `first bad commit: ${sha12(culprit.sha)} ("${culprit.subject}")`
    : `first bad commit (unconfirmed: ${failed.join(' and ') || 'checks incomplete'} failed): ${sha12(culprit.sha)} ("${culprit.subject}")`;
  return { status: 'found', summary, culprit, confirmed, checks };
}

/** "broke in a..b, fixed in b..g": the two transitions a contradiction showed. */
export function nonMonotonicText(n: NonMonotonic): string {
  const broke = n.goodBefore ? `broke in ${sha12(n.goodBefore)}..${sha12(n.bad)}` : `${sha12(n.bad)} fails`;
  return `${broke}, fixed in ${sha12(n.bad)}..${sha12(n.good)}`;
}

/** The verdict with what the search saw on the way: a history that is not monotonic, re-tests and their results. */
export function withHistory(
  verdict: BisectVerdict,
  seen: { nonMonotonic?: NonMonotonic[]; notes?: string[] },
): BisectVerdict {
  const nonMonotonic = seen.nonMonotonic ?? [];
  const notes = seen.notes ?? [];
  return {
    ...verdict,
    summary: nonMonotonic.length
      ? `${verdict.summary}; the history is not monotonic: ${nonMonotonic.map(nonMonotonicText).join('; ')}; this is the breakage nearest the bad commit`
      : verdict.summary,
    ...(nonMonotonic.length ? { nonMonotonic } : {}),
    ...(notes.length ? { notes } : {}),
  };
}
