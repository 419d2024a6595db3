/**
 * A revision's own account of its progress in the Temporal Web UI (its
 * current details): the figures the dashboard and `bootfarm status` show,
 * computed from the same records by the same function (domain/progress.ts)
 * through a local activity — at most once per few seconds of workflow time,
 * so a 120-config revision adds a handful of markers to its history, not one
 * per build. Runs started before this code (no patch marker) keep their
 * old per-config line.
 */
import { patched, proxyLocalActivities, setCurrentDetails } from '@temporalio/workflow';
import { formatRevisionProgress, type ProgressActivities, type RevisionPlan } from '../domain/progress';

export const PROGRESS_DETAILS_PATCH = 'bf-progress-details';

const progress = proxyLocalActivities<ProgressActivities>({
  startToCloseTimeout: '10 seconds',
  // Figures for people: one that cannot be read now is simply not shown.
  retry: { maximumAttempts: 2 },
});

const now = () => new Date().getTime();

export interface ProgressReporter {
  /** ask for fresh figures (skipped within `minIntervalMs` of the last, unless `final`) */
  update(final?: boolean): void;
  /** resolves when the figures asked for are shown */
  settled(): Promise<void>;
}

export function revisionProgressReporter(
  rev: { tree: string; sha: string; describe: string },
  plan: RevisionPlan,
  minIntervalMs = 3_000,
): ProgressReporter | undefined {
  if (!patched(PROGRESS_DETAILS_PATCH)) return undefined;
  let last = -Infinity;
  let pending: Promise<void> = Promise.resolve();
  return {
    update(final = false) {
      const t = now();
      if (!final && t - last < minIntervalMs) return;
      last = t;
      pending = pending.then(() =>
        progress.revisionProgress({ tree: rev.tree, sha: rev.sha, plan }).then(
          (p) => setCurrentDetails(`${rev.describe}: ${formatRevisionProgress(p)}`),
          () => {},
        ),
      );
    },
    settled: () => pending,
  };
}
