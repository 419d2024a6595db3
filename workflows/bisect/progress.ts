/**
 * A bisection's account of where it is, answered to the `bisectProgress`
 * query (the dashboard and `bootfarm status` ask it; the Web UI can too):
 * a query adds nothing to the history, so runs in flight answer it as soon
 * as their worker runs this code. The engine tells it each phase with the
 * state it has then (BisectPorts.observe).
 */
import { defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BisectSearchState } from '../../domain/bisect';
import { BISECT_PROGRESS_QUERY, roundsLeft, type BisectionProgress } from '../../domain/progress';
import { bootsUsed, verdicts } from './evidence';

export const bisectProgressQuery = defineQuery<BisectionProgress>(BISECT_PROGRESS_QUERY);

export type BisectionPhase = BisectionProgress['phase'];

/** Registers the query; returns what moves it on: the phase, with the state known then (if any newer). */
export function answerBisectProgress(parallel: number): (phase: BisectionPhase, state?: BisectSearchState) => void {
  let phase: BisectionPhase = 'endpoints';
  let known: BisectSearchState | undefined;
  setHandler(bisectProgressQuery, () => {
    const s = known;
    const remaining = s?.remaining.length ? s.remaining[s.remaining.length - 1] : null;
    return {
      phase,
      round: s?.round ?? 0,
      remaining,
      tested: s ? verdicts(s.steps).size : 0,
      boots: s ? bootsUsed(s.steps) : 0,
      parallel,
      roundsLeft: remaining === null ? null : phase === 'search' ? roundsLeft(remaining, parallel) : 0,
      startedAt: workflowInfo().startTime.toISOString(),
    };
  });
  return (next, state) => {
    phase = next;
    if (state) known = state;
  };
}
