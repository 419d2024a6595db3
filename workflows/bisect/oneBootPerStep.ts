/**
 * The bisection as it ran before boots were weighed as votes: one boot per
 * step, no check of the verdicts against the commit graph, verify then
 * revert as series that must all agree. Kept unchanged for bisections that
 * started then and are still running (workflows/bisect.ts picks it with
 * `patched`): replaying their history must issue the very same commands.
 * New bisections never run it.
 */
import { continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { BisectInput, BisectResult, BisectSearchState, BisectVerdict } from '../../domain/bisect';
import { sha12, workflowIds } from '../../domain/ids';
import { endpointsCheck, foundVerdict, notRun, revertCheck, verifyCheck } from './checks';
import { bisectChildren } from './children';
import type { BisectionContext } from './context';
import type { bisect } from '../bisect';
import { applyRound, candidateQuery } from './search';

const DEFAULT_ROUNDS_PER_RUN = 40;

export async function bisectOneBootPerStep(ctx: BisectionContext, input: BisectInput): Promise<BisectResult> {
  const { id, label, git, progress } = ctx;
  const { tree, url } = input;
  const k = Math.max(1, input.parallel ?? 1);
  const verifyRuns = Math.max(1, input.verifyRuns ?? 3);
  const { testCommit, bootSeries } = bisectChildren({ bisectId: id, input, label, verifyRuns });

  let search: BisectSearchState;
  let bisectionId: number;
  if (input.carried) {
    ({ search, bisectionId } = input.carried);
  } else {
    ({ search, bisectionId } = await ctx.start());
    const range = search.range;
    progress('checking the endpoints');
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
      return ctx.finish(
        search,
        bisectionId,
        {
          status: 'invalid',
          summary: problem,
          confirmed: false,
          checks: [check, notRun('verify', 'endpoints failed'), notRun('revert', 'endpoints failed')],
        },
        { kind: 'none' },
      );
    }
    await ctx.recordSteps(search);
  }

  return ctx.recordingErrors(() => search, searchAndConclude);

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
        return ctx.finish(search, bisectionId, verdict, {
          kind: 'only-skipped',
          suspects: next.suspects.map((sha) => ({ sha, subject: subjectOf.get(sha) ?? '' })),
        });
      }
      const round = search.round + 1;
      progress(
        `round ${round}, ${next.remaining} commits left, testing ${next.candidates.map((c) => c.describe).join(', ')}`,
      );
      const results = await Promise.all(next.candidates.map((c) => testCommit(c, 'candidate', round)));
      search = applyRound(search, next.candidates, results);
      roundsThisRun++;
      await ctx.recordSteps(search);
    }
  }

  async function concludeFound(state: BisectSearchState, culpritSha: string): Promise<BisectResult> {
    const range = state.range;
    const culprit = await git.culpritInfo({ tree, url, sha: culpritSha });
    progress(`verifying ${sha12(culpritSha)} (${verifyRuns} boots)`);
    const verified = await bootSeries(culpritSha, culprit.describe, (n) => workflowIds.bisectVerify(id, n));
    const checks = [
      endpointsCheck(state.steps).check,
      verifyCheck(culpritSha, verified.boots, verifyRuns, verified.note),
    ];
    progress(`reverting ${sha12(culpritSha)} on ${sha12(range.bad)}`);
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
    return ctx.finish(
      state,
      bisectionId,
      foundVerdict({ sha: culpritSha, subject: culprit.subject }, checks),
      { kind: 'found', sha: culpritSha, subject: culprit.subject },
      failingLog,
    );
  }
}
