/**
 * bisect: finds the first bad commit of a boot regression by building and
 * booting candidates as buildBoot children, k per round, with candidates
 * chosen on the commit graph by the candidates activity (git bisect's own
 * choice for one board). Checks the endpoints first and the culprit at the
 * end (verify, revert), records everything, and reports to the culprit's
 * author only when the checks confirm it.
 *
 * Child ids derive from this workflow's id and the commit, so a bisection
 * that continued as new, or was restarted after a crash, finds each finished
 * step again instead of rebuilding it.
 */
import {
  ActivityFailure,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  BisectActivities,
  BisectCheck,
  BisectInput,
  BisectResult,
  BisectSearchState,
  BisectVerdict,
} from '../domain/bisect';
import { sha12, workflowIds } from '../domain/ids';
import { SA } from '../domain/searchAttributes';
import { bookkeeping, gitMetadata } from './activityOptions';
import { applyRound, candidateQuery, initialSearchState, searchSteps } from './bisect/search';
import { bisectChildren } from './bisect/children';
import { endpointsCheck, foundVerdict, notRun, revertCheck, verifyCheck } from './bisect/checks';
import { formatBisectLog, type BisectConclusion } from './bisect/bisectLog';

const git =
  proxyActivities<Pick<BisectActivities, 'bisectRange' | 'bisectCandidates' | 'culpritInfo' | 'prepareRevert'>>(
    gitMetadata,
  );
const records =
  proxyActivities<Pick<BisectActivities, 'recordBisectionStart' | 'recordBisectionSteps' | 'recordBisectionEnd'>>(
    bookkeeping,
  );
const mail = proxyActivities<Pick<BisectActivities, 'sendBisectReport'>>({
  ...bookkeeping,
  startToCloseTimeout: '5 minutes',
});

const DEFAULT_ROUNDS_PER_RUN = 40;

export async function bisect(input: BisectInput): Promise<BisectResult> {
  const id = workflowInfo().workflowId;
  const k = Math.max(1, input.parallel ?? 1);
  const verifyRuns = Math.max(1, input.verifyRuns ?? 3);
  const { tree, url, target } = input;
  const platform = target.platform.name;
  const lab = target.lab.name;
  const label = `bisect ${tree} ${input.config.name} on ${platform}@${lab}`;

  upsertSearchAttributes([
    { key: SA.tree, value: tree },
    { key: SA.commit, value: input.bad },
    { key: SA.config, value: input.config.name },
    { key: SA.platform, value: platform },
    { key: SA.lab, value: lab },
    { key: SA.kind, value: 'bisect' },
    ...(input.branch ? [{ key: SA.branch, value: input.branch }] : []),
  ]);

  const { testCommit, bootSeries } = bisectChildren({ bisectId: id, input, label, verifyRuns });

  let search: BisectSearchState;
  let bisectionId: number;
  if (input.carried) {
    ({ search, bisectionId } = input.carried);
  } else {
    setCurrentDetails(`${label}: resolving ${sha12(input.good)}..${sha12(input.bad)}`);
    const range = await git.bisectRange({ tree, url, good: input.good, bad: input.bad });
    search = initialSearchState(range);
    bisectionId = await records.recordBisectionStart({
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
    setCurrentDetails(`${label}: checking the endpoints`);
    const endpoints = await Promise.all([
      testCommit(
        { sha: range.bad, subject: range.badSubject, describe: range.describes[range.bad] ?? sha12(range.bad) },
        'bad-endpoint',
        0,
      ),
      ...range.good.map((g, i) =>
        testCommit(
          { sha: g, subject: range.goodSubjects[i], describe: range.describes[g] ?? sha12(g) },
          'good-endpoint',
          0,
        ),
      ),
    ]);
    search = { ...search, steps: endpoints };
    const { check, problem } = endpointsCheck(endpoints);
    if (problem) {
      return finish(
        search,
        {
          status: 'invalid',
          summary: problem,
          confirmed: false,
          checks: [check, notRun('verify', 'endpoints failed'), notRun('revert', 'endpoints failed')],
        },
        { kind: 'none' },
      );
    }
    await records.recordBisectionSteps({ workflowId: id, steps: search.steps });
  }

  try {
    return await searchAndConclude();
  } catch (e) {
    // an activity that kept failing: the row says so instead of staying "running"
    if (e instanceof ActivityFailure) {
      const summary = `bisection failed: ${e.cause?.message ?? e.message}`;
      const bisectLog = formatBisectLog(search.range, search.steps, { kind: 'none' });
      await records.recordBisectionEnd({
        workflowId: id,
        verdict: { status: 'error', summary, confirmed: false, checks: [] },
        steps: search.steps,
        bisectLog,
      });
      upsertSearchAttributes([{ key: SA.result, value: 'error' }]);
    }
    throw e;
  }

  async function searchAndConclude(): Promise<BisectResult> {
    const roundsPerRun = input.roundsPerRun ?? DEFAULT_ROUNDS_PER_RUN;
    let roundsThisRun = 0;
    for (;;) {
      if (roundsThisRun >= roundsPerRun || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof bisect>({ ...input, carried: { search, bisectionId } });
      }
      const next = await git.bisectCandidates({ tree, url, ...candidateQuery(search, k) });
      search = { ...search, remaining: [...search.remaining, next.remaining] };
      if (next.kind === 'found') return concludeFound(search, next.culprit);
      if (next.kind === 'only-skipped') {
        const subjectOf = new Map(search.steps.map((s) => [s.sha, s.subject]));
        const verdict: BisectVerdict = {
          status: 'not-found',
          summary: `only skipped commits left to test: the first bad commit is one of ${next.suspects.length}`,
          suspects: next.suspects,
          confirmed: false,
          checks: [
            endpointsCheck(search.steps).check,
            notRun('verify', 'no single culprit'),
            notRun('revert', 'no single culprit'),
          ],
        };
        return finish(search, verdict, {
          kind: 'only-skipped',
          suspects: next.suspects.map((sha) => ({ sha, subject: subjectOf.get(sha) ?? '' })),
        });
      }
      const round = search.round + 1;
      setCurrentDetails(
        `${label}: round ${round}, ${next.remaining} commits left, testing ${next.candidates.map((c) => c.describe).join(', ')}`,
      );
      const results = await Promise.all(next.candidates.map((c) => testCommit(c, 'candidate', round)));
      search = applyRound(search, next.candidates, results);
      roundsThisRun++;
      await records.recordBisectionSteps({ workflowId: id, steps: search.steps });
    }
  }

  async function concludeFound(state: BisectSearchState, culpritSha: string): Promise<BisectResult> {
    const range = state.range;
    const culprit = await git.culpritInfo({ tree, url, sha: culpritSha });
    setCurrentDetails(`${label}: verifying ${sha12(culpritSha)} (${verifyRuns} boots)`);
    const verified = await bootSeries(culpritSha, culprit.describe, (n) => workflowIds.bisectVerify(id, n));
    const checks: BisectCheck[] = [
      endpointsCheck(state.steps).check,
      verifyCheck(culpritSha, verified.boots, verifyRuns, verified.note),
    ];
    setCurrentDetails(`${label}: reverting ${sha12(culpritSha)} on ${sha12(range.bad)}`);
    const revert = await git.prepareRevert({ tree, url, bad: range.bad, culprit: culpritSha });
    if (revert.applied) {
      const reverted = await bootSeries(revert.sha, revert.describe, (n) => workflowIds.bisectRevert(id, n), {
        bad: range.bad,
        culprit: culpritSha,
      });
      checks.push(revertCheck(range.bad, culpritSha, { applied: true, sha: revert.sha, ...reverted }, verifyRuns));
    } else {
      checks.push(revertCheck(range.bad, culpritSha, revert, verifyRuns));
    }
    const failingLog =
      verified.boots.find((b) => b.status === 'fail')?.log?.key ??
      state.steps.find((s) => s.sha === culpritSha && s.verdict === 'bad')?.logKey;
    return finish(
      state,
      foundVerdict({ sha: culpritSha, subject: culprit.subject }, checks),
      { kind: 'found', sha: culpritSha, subject: culprit.subject },
      failingLog,
    );
  }

  async function finish(
    state: BisectSearchState,
    verdict: BisectVerdict,
    conclusion: BisectConclusion,
    failingLogKey?: string,
  ): Promise<BisectResult> {
    const bisectLog = formatBisectLog(state.range, state.steps, conclusion);
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
    setCurrentDetails(`${label}: ${verdict.summary}`);
    const steps = searchSteps(state);
    return {
      verdict,
      steps: state.steps,
      searchSteps: steps.length,
      rounds: state.round,
      bisectLog,
      bisectionId,
      reportMessageId,
    };
  }
}
