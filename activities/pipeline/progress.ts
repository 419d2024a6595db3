/** A revision's progress from its records, for its own account in the Temporal Web UI (workflows/revisionPipeline.ts). */
import type { Sql } from 'postgres';
import type { ProgressActivities } from '../../domain/progress';
import { revisionProgressOf } from '../../plumbing/db/progress';

export function createProgressActivities({ sql }: { sql: Sql }) {
  return {
    revisionProgress: ({ tree, sha, plan }) => revisionProgressOf(sql, { tree, sha }, plan),
  } satisfies ProgressActivities;
}
