/**
 * Search attributes from workflow code. A starter that knows what a run is
 * (revisionPipeline starting its buildBoot children) sets them at start;
 * upserting the same values again would only cost a history event and a
 * visibility write per run.
 */
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';

/** Upsert the pairs this run does not carry yet (with these values). */
export function ensureSearchAttributes(pairs: SearchAttributePair[]): void {
  const current = workflowInfo().typedSearchAttributes;
  const missing = pairs.filter((p) => current.get(p.key) !== p.value);
  if (missing.length) upsertSearchAttributes(missing);
}
