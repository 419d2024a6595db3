/**
 * Run by the tree/branch's Schedule: read the branch head and start its
 * revision pipeline unless that head was tested already. The pipeline's id
 * (`rev:<tree>:<branch>:<sha>`) is the idempotency key while Temporal
 * remembers the run; the results database remembers beyond retention.
 */
import {
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { GitActivities, ResultActivities } from '../domain/activityContracts';
import { SA } from '../domain/searchAttributes';
import * as options from './activityOptions';
import { revisionStartOptions, type TreeMonitorInput } from '../domain/pipelineSpec';
import { revisionPipeline } from './revisionPipeline';
import { childIds } from './childIds';

const git = proxyActivities<GitActivities>({
  ...options.gitMetadata,
  startToCloseTimeout: '2 minutes',
  retry: { ...options.gitMetadata.retry, maximumAttempts: 3 },
});
const records = proxyActivities<ResultActivities>(options.bookkeeping);

export type TreeMonitorOutcome =
  /** the branch does not exist (yet) */
  | { action: 'no-head' }
  /** a pipeline for this head was recorded (tested), or its workflow exists (running, or completed within retention) */
  | { action: 'already-tested' | 'already-started'; sha: string; workflowId: string }
  | { action: 'started'; sha: string; workflowId: string };

export async function treeMonitor(input: TreeMonitorInput): Promise<TreeMonitorOutcome> {
  upsertSearchAttributes([
    { key: SA.tree, value: input.tree },
    { key: SA.branch, value: input.branch },
    { key: SA.kind, value: 'monitor' },
  ]);
  const sha = await git.lsRemote.executeWithOptions({ summary: `ls-remote ${input.branch}` }, [
    input.url,
    input.branch,
  ]);
  if (!sha) {
    setCurrentDetails(`${input.url} has no branch ${input.branch}`);
    return { action: 'no-head' };
  }
  upsertSearchAttributes([{ key: SA.commit, value: sha }]);
  const start = revisionStartOptions({ ...input, sha }, childIds());
  if (await records.revisionKnown({ tree: input.tree, branch: input.branch, sha })) {
    setCurrentDetails(`head ${sha} was tested already`);
    return { action: 'already-tested', sha, workflowId: start.workflowId };
  }
  try {
    // The pipeline outlives this short run: abandoned, not terminated, when the monitor completes.
    await startChild(revisionPipeline, {
      ...start,
      args: [{ ...input, sha }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    setCurrentDetails(`head ${sha}: ${start.workflowId} exists already`);
    return { action: 'already-started', sha, workflowId: start.workflowId };
  }
  setCurrentDetails(`head ${sha}: started ${start.workflowId}`);
  return { action: 'started', sha, workflowId: start.workflowId };
}
