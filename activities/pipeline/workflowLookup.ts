/**
 * Results of workflows another starter owns. A revision pipeline whose
 * buildBoot child id exists already (the same commit on another branch, an
 * earlier attempt of the revision) waits for that run instead of building
 * again.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowLookupActivities } from '../../domain/activityContracts';
import type { BuildBootResult } from '../../domain/types';

const HEARTBEAT_MS = 10_000;

export function createWorkflowLookupActivities({ client }: { client: Client }) {
  return {
    async awaitBuildBoot(workflowId: string): Promise<BuildBootResult> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        return await Promise.race([
          client.workflow.getHandle(workflowId).result() as Promise<BuildBootResult>,
          ctx.cancelled,
        ]);
      } catch (err) {
        // That run ended without a result: nothing to wait for any more.
        if (err instanceof WorkflowFailedError) {
          throw ApplicationFailure.create({
            type: 'BfWorkflowFailed',
            message: `${workflowId}: ${err.cause?.message ?? err.message}`,
            nonRetryable: true,
          });
        }
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  } satisfies WorkflowLookupActivities;
}
