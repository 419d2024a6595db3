/**
 * A bisection's account of where it is, answered to the `bisectProgress`
 * query (the dashboard and `bootfarm status` ask it; the Web UI can too):
 * a query adds nothing to the history, so runs in flight answer it as soon
 * as their worker runs this code.
 */
import { defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BisectSearchState } from '../../domain/bisect';
import { BISECT_PROGRESS_QUERY, roundsLeft, type BisectionProgress } from '../../domain/progress';

export const bisectProgressQuery = defineQuery<BisectionProgress>(BISECT_PROGRESS_QUERY);

/** Registers the query over the bisection's state; returns the setter of its phase. */
export function answerBisectProgress(
  state: () => BisectSearchState | undefined,
  parallel: number,
): (phase: BisectionProgress['phase']) => void {
  let phase: BisectionProgress['phase'] = 'endpoints';
  setHandler(bisectProgressQuery, () => {
    const s = state();
    const remaining = s?.remaining.length ? s.remaining[s.remaining.length - 1] : null;
    return {
      phase,
      round: s?.round ?? 0,
      remaining,
      tested: s?.steps.length ?? 0,
      parallel,
      roundsLeft: remaining === null ? null : phase === 'search' ? roundsLeft(remaining, parallel) : 0,
      startedAt: workflowInfo().startTime.toISOString(),
    };
  });
  return (next) => {
    phase = next;
  };
}
