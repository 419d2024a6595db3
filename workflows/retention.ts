/**
 * Run by the `retention` Schedule: sweeps the store, the database and the
 * outbox kind by kind (activities/retention/expiry.ts), each in bounded
 * activity calls that hand back a cursor, and returns what it removed (or,
 * in a dry run, what it would). Ages are measured from this run's start, so
 * a sweep that takes long does not move its own cutoff.
 */
import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { RetentionActivities } from '../domain/activityContracts';
import { SA } from '../domain/searchAttributes';
import { STORE_KINDS, type RetentionInput, type RetentionReport, type SweepCursor } from '../domain/retention';

const sweeper = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** batches per activity call: one call stays well inside its timeout */
const BATCHES_PER_CALL = 20;
/** calls per kind and run: what is left waits for the next run (the history stays short) */
const MAX_CALLS_PER_KIND = 100;
/** a temporary file this old belongs to no live writer */
const TEMPORARY_AGE_MS = 86_400_000;

export async function retention(input: RetentionInput): Promise<RetentionReport> {
  upsertSearchAttributes([{ key: SA.kind, value: 'retention' }]);
  const startedAt = workflowInfo().runStartTime.getTime();
  const report: RetentionReport = { dryRun: input.dryRun, kinds: [], temporaries: 0 };
  for (const kind of STORE_KINDS) {
    const age = input.ages[kind];
    if (age === null) continue;
    const cutoff = new Date(startedAt - age).toISOString();
    const entry: RetentionReport['kinds'][number] = {
      kind,
      cutoff,
      rows: 0,
      objects: 0,
      bytes: 0,
      sample: [],
      calls: 0,
      more: false,
    };
    let after: SweepCursor | undefined;
    do {
      setCurrentDetails(`${input.dryRun ? 'dry run: ' : ''}${kind} before ${cutoff}: ${entry.rows} rows so far`);
      const r = await sweeper.sweepStore({
        kind,
        cutoff,
        keepRevisions: input.keepRevisions,
        dryRun: input.dryRun,
        batch: input.batch,
        after,
        maxBatches: BATCHES_PER_CALL,
      });
      entry.rows += r.rows;
      entry.objects += r.objects;
      entry.bytes += r.bytes;
      entry.sample.push(...r.sample.slice(0, Math.max(0, 20 - entry.sample.length)));
      entry.calls++;
      after = r.next;
    } while (after && entry.calls < MAX_CALLS_PER_KIND);
    entry.more = after !== undefined;
    report.kinds.push(entry);
  }
  report.temporaries = await sweeper.sweepStoreTemporaries({ olderThanMs: TEMPORARY_AGE_MS, dryRun: input.dryRun });
  setCurrentDetails(
    `${input.dryRun ? 'dry run: would remove' : 'removed'} ${report.kinds.map((k) => `${k.kind} ${k.rows}`).join(', ')}`,
  );
  return report;
}
