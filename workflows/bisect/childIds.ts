/**
 * Workflow ids of a bisection's build-boot children, numbered per commit so
 * that a bisection continued as new, or restarted after a crash, asks for
 * the same children again and finds the finished ones. A commit's first
 * step keeps the id it always had (`…:step:<sha12>`); its later batches of
 * boots (a second attempt, a re-test) are `…:a2`, `…:a3`, …
 */
import { sha12, workflowIds } from '../../domain/ids';

export function childIds(bisectId: string) {
  return {
    /** the n-th child (from 0) of a commit's endpoint, search and re-test steps */
    step: (sha: string, n: number) => workflowIds.bisectStep(bisectId, sha, n + 1),
    /** the n-th child of the culprit's verification */
    verify: (culprit: string, n: number) => `${bisectId}:verify:${sha12(culprit)}:${n + 1}`,
    /** the n-th child of the boots of the bad commit with `culprit` reverted */
    revert: (culprit: string, n: number) => `${bisectId}:revert:${sha12(culprit)}:${n + 1}`,
  };
}
