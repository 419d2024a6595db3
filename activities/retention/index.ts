import { Context } from '@temporalio/activity';
import type { Sql } from 'postgres';
import type { RetentionActivities } from '../../domain/activityContracts';
import type { SweepCursor } from '../../domain/retention';
import type { ArtifactStore } from '../../plumbing/store/types';
import { createExpiry } from './expiry';

/** The orchestrator's retention activities: the store, the database and the outbox (activities/retention/expiry.ts). */
export function createRetentionActivities(deps: { sql: Sql; store: ArtifactStore; outboxDir: string }) {
  const expiry = createExpiry(deps);
  return {
    async sweepStore(req) {
      const ctx = Context.current();
      // A retry (a worker that died mid-sweep) goes on where the last heartbeat was, not from the start.
      const resumed = ctx.info.heartbeatDetails as { next?: SweepCursor } | undefined;
      return expiry.sweep({ ...req, after: resumed?.next ?? req.after }, (progress) =>
        ctx.heartbeat({ next: progress.next, rows: progress.rows }),
      );
    },
    sweepStoreTemporaries: ({ olderThanMs, dryRun }) => deps.store.sweepTemporary(olderThanMs, { dryRun }),
  } satisfies RetentionActivities;
}
