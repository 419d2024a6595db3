/**
 * What every bisection does around its search, whichever way it judges
 * boots: its search attributes, the range and the `bisections` row at the
 * start, and at the end the verdict recorded, the report mailed and the
 * result returned; an activity that kept failing is recorded as an error.
 */
import {
  ActivityFailure,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  BisectActivities,
  BisectInput,
  BisectResult,
  BisectSearchState,
  BisectVerdict,
} from '../../domain/bisect';
import { sha12 } from '../../domain/ids';
import { SA } from '../../domain/searchAttributes';
import { bookkeeping, gitMetadata } from '../activityOptions';
import { formatBisectLog, type BisectConclusion } from './bisectLog';
import { bootsUsed } from './evidence';
import { initialSearchState, searchSteps } from './search';

const git =
  proxyActivities<
    Pick<BisectActivities, 'bisectRange' | 'bisectCandidates' | 'bisectGraphCheck' | 'culpritInfo' | 'prepareRevert'>
  >(gitMetadata);
const records =
  proxyActivities<Pick<BisectActivities, 'recordBisectionStart' | 'recordBisectionSteps' | 'recordBisectionEnd'>>(
    bookkeeping,
  );
const mail = proxyActivities<Pick<BisectActivities, 'sendBisectReport'>>({
  ...bookkeeping,
  startToCloseTimeout: '5 minutes',
});

export type BisectionContext = ReturnType<typeof bisectionContext>;

export function bisectionContext(input: BisectInput) {
  const id = workflowInfo().workflowId;
  const { tree, url, target } = input;
  const platform = target.platform.name;
  const lab = target.lab.name;
  const label = `bisect ${tree} ${input.config.name} on ${platform}@${lab}`;
  const progress = (text: string) => setCurrentDetails(`${label}: ${text}`);

  function searchAttributes() {
    upsertSearchAttributes([
      { key: SA.tree, value: tree },
      { key: SA.commit, value: input.bad },
      { key: SA.config, value: input.config.name },
      { key: SA.platform, value: platform },
      { key: SA.lab, value: lab },
      { key: SA.kind, value: 'bisect' },
      ...(input.branch ? [{ key: SA.branch, value: input.branch }] : []),
    ]);
  }

  /** Resolves the range and opens the bisection's row. */
  async function start(): Promise<{ search: BisectSearchState; bisectionId: number }> {
    progress(`resolving ${sha12(input.good)}..${sha12(input.bad)}`);
    const range = await git.bisectRange({ tree, url, good: input.good, bad: input.bad });
    const bisectionId = await records.recordBisectionStart({
      workflowId: id,
      tree,
      branch: input.branch,
      good: range.givenGood,
      bad: range.bad,
      config: input.config.name,
      platform,
      lab,
      regressionId: input.regressionId,
    });
    return { search: initialSearchState(range), bisectionId };
  }

  const recordSteps = (state: BisectSearchState) =>
    records.recordBisectionSteps({ workflowId: id, steps: state.steps });

  /** Runs the search; an activity that kept failing leaves an error verdict on the row instead of "running". */
  async function recordingErrors(
    current: () => BisectSearchState,
    search: () => Promise<BisectResult>,
  ): Promise<BisectResult> {
    try {
      return await search();
    } catch (e) {
      if (e instanceof ActivityFailure) {
        const summary = `bisection failed: ${e.cause?.message ?? e.message}`;
        const state = current();
        const bisectLog = formatBisectLog(state.range, state.steps, { kind: 'none' }, state.setAside);
        await records.recordBisectionEnd({
          workflowId: id,
          verdict: { status: 'error', summary, confirmed: false, checks: [] },
          steps: state.steps,
          bisectLog,
        });
        upsertSearchAttributes([{ key: SA.result, value: 'error' }]);
      }
      throw e;
    }
  }

  async function finish(
    state: BisectSearchState,
    bisectionId: number,
    verdict: BisectVerdict,
    conclusion: BisectConclusion,
    failingLogKey?: string,
  ): Promise<BisectResult> {
    const bisectLog = formatBisectLog(state.range, state.steps, conclusion, state.setAside);
    await records.recordBisectionEnd({ workflowId: id, verdict, steps: state.steps, bisectLog });
    let reportMessageId: string | undefined;
    if (input.report && verdict.status !== 'invalid') {
      const sent = await mail.sendBisectReport({
        workflowId: id,
        bisectionId,
        tree,
        url,
        branch: input.branch,
        configName: input.config.name,
        platform,
        lab,
        range: state.range,
        verdict,
        bisectLog,
        failingLogKey,
        failurePatterns: target.platform.failurePatterns,
        report: input.report,
      });
      reportMessageId = sent.messageId;
    }
    const result = verdict.status === 'found' ? (verdict.confirmed ? 'found' : 'unconfirmed') : verdict.status;
    upsertSearchAttributes([{ key: SA.result, value: result }]);
    progress(verdict.summary);
    return {
      verdict,
      steps: state.steps,
      searchSteps: searchSteps(state).length,
      rounds: state.round,
      bisectLog,
      bisectionId,
      reportMessageId,
      boots: bootsUsed(state.steps),
    };
  }

  return { id, label, git, progress, searchAttributes, start, recordSteps, recordingErrors, finish };
}
