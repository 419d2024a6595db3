/**
 * The bisect workflow's search loop without Temporal: the same candidates
 * activity code on the same repository and the same state machine, with an
 * oracle standing in for build-boot children. Used by the property tests
 * and the benchmark to compare with `git bisect run`.
 */
import type { BisectStep, StepVerdict } from '../../../domain/bisect';
import { computeCandidates } from '../../../activities/bisect/candidates';
import { resolveBisectRange } from '../../../activities/bisect/range';
import { applyRound, candidateQuery, initialSearchState, searchSteps } from '../../../workflows/bisect/search';

export interface SimulatedBisection {
  culprit?: string;
  suspects?: string[];
  /** candidates tested, in order */
  tested: string[];
  rounds: number;
}

export async function simulateBisection(
  gitDir: string,
  opts: { good: string; bad: string; k: number; oracle: (sha: string) => StepVerdict },
): Promise<SimulatedBisection> {
  let state = initialSearchState(await resolveBisectRange(gitDir, opts));
  for (;;) {
    const next = await computeCandidates(gitDir, candidateQuery(state, opts.k));
    const tested = searchSteps(state).map((s) => s.sha);
    if (next.kind === 'found') return { culprit: next.culprit, tested, rounds: state.round };
    if (next.kind === 'only-skipped') return { suspects: next.suspects, tested, rounds: state.round };
    const results: BisectStep[] = next.candidates.map((c) => ({
      sha: c.sha,
      subject: c.subject,
      role: 'candidate',
      round: state.round + 1,
      verdict: opts.oracle(c.sha),
      build: 'pass',
      attempts: 1,
      workflowId: `sim:${c.sha}`,
      message: '',
      weight: c.weight,
    }));
    state = applyRound(state, next.candidates, results);
  }
}
