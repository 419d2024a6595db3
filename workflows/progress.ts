/**
 * A revision's own account of its progress in the Temporal Web UI (its
 * current details): the figures the dashboard and `bootfarm status` show,
 * computed from the same records by the same function (domain/progress.ts)
 * through a local activity — at most once per few seconds of workflow time,
 * so a 120-config revision adds a handful of markers to its history, not one
 * per build. Runs started before this code (no patch marker) keep their
 * old per-config line.
 *
 * The worker running this workflow must register the `revisionProgress`
 * activity (the orchestrator does): a local activity the worker does not
 * have leaves no marker in the history, and the run cannot be replayed. One
 * that fails is harmless (its failure is recorded; no figures are shown).
 */
import { isCancellation, patched, proxyLocalActivities, setCurrentDetails } from '@temporalio/workflow';
import { formatRevisionProgress, type ProgressActivities, type RevisionPlan } from '../domain/progress';

export const PROGRESS_DETAILS_PATCH = 'bf-progress-details';

const progress = proxyLocalActivities<ProgressActivities>({
  startToCloseTimeout: '10 seconds',
  // Figures for people: one that cannot be read now is simply not shown.
  retry: { maximumAttempts: 2 },
});

const now = () => new Date().getTime();

export interface ProgressReporter {
  /** show fresh figures (skipped within `minIntervalMs` of the last, unless `final`); resolves once shown */
  update(final?: boolean): Promise<void>;
}

export function revisionProgressReporter(
  rev: { tree: string; sha: string; describe: string },
  plan: RevisionPlan,
  minIntervalMs = 3_000,
): ProgressReporter | undefined {
  if (!patched(PROGRESS_DETAILS_PATCH)) return undefined;
  let last = -Infinity;
  return {
    // Awaited where it is called, like the records: a local activity left running beside other commands is
    // resolved at another point on replay than it was, which Temporal takes for nondeterminism.
    async update(final = false) {
      const t = now();
      if (!final && t - last < minIntervalMs) return;
      last = t;
      try {
        const p = await progress.revisionProgress({ tree: rev.tree, sha: rev.sha, plan });
        setCurrentDetails(`${rev.describe}: ${formatRevisionProgress(p)}`);
      } catch (err) {
        if (isCancellation(err)) throw err;
        // figures that cannot be read now are not shown
      }
    },
  };
}
