/**
 * The trust checks of a bisection and the verdict they add up to. Pure.
 *
 * - endpoints: the good commit(s) boot and the bad one fails, before any
 *   search; otherwise the search would find nothing meaningful.
 * - verify: the culprit's kernel fails `runs` boots in a row.
 * - revert: the bad commit with the culprit reverted passes `runs` boots
 *   (not applicable when the revert does not apply cleanly).
 * A culprit is confirmed when verify passed and revert passed or could not apply.
 */
import { sha12 } from '../../domain/ids';
import type { BootResult } from '../../domain/types';
import type { BisectCheck, BisectStep, BisectVerdict } from '../../domain/bisect';

function endpointProblem(step: BisectStep): string | undefined {
  const expected = step.role === 'good-endpoint' ? 'good' : 'bad';
  if (step.verdict === expected) return undefined;
  if (step.verdict === 'skip') {
    if (step.build === 'fail') return `${expected} ${sha12(step.sha)} does not build (${step.message})`;
    return `${expected} ${sha12(step.sha)} could not be tested (${step.message})`;
  }
  return expected === 'good' ? `good ${sha12(step.sha)} failed (${step.message})` : `bad ${sha12(step.sha)} passed`;
}

/**
 * The endpoints check; with a `problem` the bisection stops. A boot verdict
 * against expectations means the regression does not reproduce; a skip only
 * that it could not be checked.
 */
export function endpointsCheck(steps: BisectStep[]): { check: BisectCheck; problem?: string } {
  const endpoints = steps.filter((s) => s.role !== 'candidate');
  const problems = endpoints.map(endpointProblem).filter((p): p is string => p !== undefined);
  if (problems.length === 0) {
    const good = endpoints.filter((s) => s.role === 'good-endpoint').map((s) => sha12(s.sha));
    const bad = endpoints.filter((s) => s.role === 'bad-endpoint').map((s) => sha12(s.sha));
    return {
      check: {
        name: 'endpoints',
        outcome: 'passed',
        detail: `good ${good.join(', ')} passed; bad ${bad.join(', ')} failed`,
      },
    };
  }
  const contradicted = endpoints.some((s) => s.verdict !== 'skip' && endpointProblem(s) !== undefined);
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
  if (!outcome.applied)
    return {
      name: 'revert',
      outcome: 'not-applicable',
      detail: `reverting ${sha12(culprit)} on ${sha12(bad)} does not apply cleanly: ${outcome.reason}`,
    };
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
