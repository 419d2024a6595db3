/**
 * The build report and the boot report of one revision. Started by the
 * revisionPipeline as a child (id `report:<tree>:<branch>:<sha>`, see
 * workflowIds.report, full sha) when the revision starts, and signalled
 * `allResultsIn` when every build and boot has ended. The reports go out then,
 * or when the tree's report delay has passed (a durable timer), whichever
 * comes first; if the delay won, results that come in later go into a
 * follow-up threaded under the first reports (In-Reply-To / References).
 *
 * Message-IDs derive from the revision's workflow id and the report kind, so
 * a retried activity or a re-run of this workflow never mails twice (the
 * activity checks the `reports` record of that Message-ID).
 */
import {
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { childIds } from './childIds';
import {
  reportMessageId,
  type ReportActivities,
  type ReportKind,
  type ReportRecipients,
  type SendResult,
} from '../domain/reports';
import { SA } from '../domain/searchAttributes';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';

export interface RevisionReportsInput {
  tree: string;
  branch: string;
  sha: string;
  /** the tree's `report` settings: from, to, cc, textOnly */
  recipients: ReportRecipients;
  /** the tree's report delay (ms): report what is in by then */
  delayMs: number;
  /** how long after partial reports late results may still make a follow-up (default 2 days) */
  followUpWindowMs?: number;
  /** what Message-IDs derive from (default: the revision pipeline's workflow id) */
  threadKey?: string;
  /** the send activity's retry backoff (default 30 s doubling to 10 min, without end) */
  sendRetry?: { initialIntervalMs?: number; maximumIntervalMs?: number };
}

export interface SentReport extends SendResult {
  kind: ReportKind;
  /** 0 for the report, 1 for its follow-up */
  followUp: number;
  /** workflow time the send completed (ISO 8601) */
  at: string;
}

export interface RevisionReportsResult {
  /** false when the delay passed before every result was in */
  complete: boolean;
  reports: SentReport[];
}

/** Every build and boot of the revision has ended. */
export const allResultsInSignal = defineSignal('allResultsIn');
/** The reports handled so far. */
export const reportsSentQuery = defineQuery<SentReport[]>('reportsSent');

export const REPORT_KINDS: ReportKind[] = ['build', 'boot'];
const DEFAULT_FOLLOW_UP_WINDOW_MS = 2 * 24 * 3_600_000;

export async function revisionReports(input: RevisionReportsInput): Promise<RevisionReportsResult> {
  const { tree, branch, sha } = input;
  upsertSearchAttributes([
    { key: SA.tree, value: tree },
    { key: SA.branch, value: branch },
    { key: SA.commit, value: sha },
    { key: SA.kind, value: 'report' },
  ]);
  const { sendRevisionReport } = proxyActivities<ReportActivities>({
    startToCloseTimeout: '5 minutes',
    retry: {
      initialInterval: input.sendRetry?.initialIntervalMs ?? 30_000,
      backoffCoefficient: 2,
      maximumInterval: input.sendRetry?.maximumIntervalMs ?? 600_000,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });

  let signals = 0;
  setHandler(allResultsInSignal, () => void signals++);
  const reports: SentReport[] = [];
  setHandler(reportsSentQuery, () => reports);
  const threadKey = input.threadKey ?? childIds().revision(tree, branch, sha);
  const threads: Record<ReportKind, string[]> = { build: [], boot: [] };

  const sendAll = async (followUp: number) => {
    const sent = await Promise.all(
      REPORT_KINDS.map(async (kind) => {
        const messageId = reportMessageId(threadKey, followUp ? `${kind}-followup-${followUp}` : kind);
        const thread = followUp ? [...threads[kind]] : undefined;
        const r = await sendRevisionReport({
          tree,
          branch,
          sha,
          kind,
          messageId,
          recipients: input.recipients,
          thread,
        });
        return { ...r, kind, followUp, at: new Date().toISOString() };
      }),
    );
    for (const r of sent) {
      reports.push(r);
      if (r.status !== 'nothing-new') threads[r.kind].push(r.messageId);
    }
  };

  setCurrentDetails(`waiting for all results, at most ${Math.round(input.delayMs / 1000)} s`);
  const complete = await condition(() => signals > 0, input.delayMs);
  setCurrentDetails(
    complete
      ? 'all results in: sending the reports'
      : 'report delay passed: sending the reports with the results in so far',
  );
  await sendAll(0);
  if (!complete) {
    setCurrentDetails('reports sent before every result was in: waiting for the rest, for a follow-up');
    await condition(() => signals > 0, input.followUpWindowMs ?? DEFAULT_FOLLOW_UP_WINDOW_MS);
    // Also at the window's end: results recorded without a signal still deserve their follow-up.
    await sendAll(1);
  }
  setCurrentDetails(`done: ${reports.map((r) => `${r.kind}${r.followUp ? ' follow-up' : ''} ${r.status}`).join(', ')}`);
  return { complete, reports };
}
