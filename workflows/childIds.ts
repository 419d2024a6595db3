/**
 * The ids a workflow run gives the workflows it starts. Ids carry full shas
 * now; a run that started before (its history has no FULL_SHA_IDS_PATCH
 * marker) keeps naming its children with 12 hex digits, as it did, so its
 * replay stays deterministic and a re-run child is not started twice.
 */
import { patched } from '@temporalio/workflow';
import { FULL_SHA_IDS_PATCH, shortShaWorkflowIds, workflowIds, type WorkflowIds } from '../domain/ids';

export function childIds(): WorkflowIds {
  return patched(FULL_SHA_IDS_PATCH) ? workflowIds : shortShaWorkflowIds;
}
