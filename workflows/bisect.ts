/**
 * bisect: finds the first bad commit of a boot regression by building and
 * booting candidates as buildBoot children, k per round, with candidates
 * chosen on the commit graph by the candidates activity (git bisect's own
 * choice for one board). Boots are votes weighed by the board's flake rate;
 * every round is checked against the commit graph before it is applied; the
 * endpoints are checked first and the culprit at the end (verify and revert
 * at once), and a failed check sends the search back to re-test what it
 * contradicts (workflows/bisect/engine.ts). Records everything, and reports
 * to the culprit's author only when the checks confirm it.
 *
 * Child ids derive from this workflow's id and the commit, so a bisection
 * that continued as new, or was restarted after a crash, finds each finished
 * step again instead of rebuilding it.
 */
import { continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_FLAKE_THRESHOLD, type BisectInput, type BisectResult, type BisectSearchState } from '../domain/bisect';
import { bisectChildren } from './bisect/children';
import { bisectionContext } from './bisect/context';
import { bisectEngine } from './bisect/engine';
import { bisectOneBootPerStep } from './bisect/oneBootPerStep';
import { answerBisectProgress } from './bisect/progress';

/**
 * Bisections started before this patch booted each step once and trusted
 * it; their histories replay through bisectOneBootPerStep.
 */
export const WEIGHED_VOTES_PATCH = 'bisect-weighed-votes';

const DEFAULT_ROUNDS_PER_RUN = 40;

export async function bisect(input: BisectInput): Promise<BisectResult> {
  const weighed = patched(WEIGHED_VOTES_PATCH);
  const ctx = bisectionContext(input);
  ctx.searchAttributes();
  if (!weighed) return bisectOneBootPerStep(ctx, input);

  const verifyRuns = Math.max(1, input.verifyRuns ?? 3);
  const k = Math.max(1, input.parallel ?? 1);
  // A query adds nothing to the history: no patch needed. Bisections on the one-boot path above do not answer it.
  const phase = answerBisectProgress(k);
  const { lab } = bisectChildren({ bisectId: ctx.id, input, label: ctx.label, verifyRuns });
  const { tree, url } = input;
  const roundsPerRun = input.roundsPerRun ?? DEFAULT_ROUNDS_PER_RUN;
  let roundsThisRun = 0;
  let search: BisectSearchState;
  let bisectionId: number;

  const engine = bisectEngine(
    {
      bisectId: ctx.id,
      k,
      stepRuns: Math.max(1, input.stepRuns ?? 1),
      flakeRate: input.flakeRate ?? 0,
      flakeThreshold: input.flakeThreshold ?? DEFAULT_FLAKE_THRESHOLD,
      verifyRuns,
    },
    {
      lab,
      candidates: (q) => ctx.git.bisectCandidates({ tree, url, ...q }),
      graphCheck: (q) => ctx.git.bisectGraphCheck({ tree, url, ...q }),
      culpritInfo: (sha) => ctx.git.culpritInfo({ tree, url, sha }),
      prepareRevert: (q) => ctx.git.prepareRevert({ tree, url, ...q }),
      async afterRound(state) {
        search = state;
        phase('search', state);
        roundsThisRun++;
        await ctx.recordSteps(state);
        if (roundsThisRun >= roundsPerRun || workflowInfo().continueAsNewSuggested)
          await continueAsNew<typeof bisect>({ ...input, carried: { search: state, bisectionId } });
      },
      progress: ctx.progress,
      observe: phase,
    },
  );

  /** Records the verdict and mails the report, the query saying so meanwhile. */
  async function finish(...args: Parameters<typeof ctx.finish>): Promise<BisectResult> {
    phase('report', args[0]);
    const result = await ctx.finish(...args);
    phase('done');
    return result;
  }

  if (input.carried) {
    ({ search, bisectionId } = input.carried);
    phase('search', search);
  } else {
    ({ search, bisectionId } = await ctx.start());
    const checked = await engine.checkEndpoints(search);
    search = checked.state;
    if (checked.problem) {
      const { verdict, conclusion } = engine.invalid(search);
      return finish(search, bisectionId, verdict, conclusion);
    }
    await ctx.recordSteps(search);
  }

  return ctx.recordingErrors(
    () => search,
    async () => {
      const done = await engine.search(search);
      return finish(done.state, bisectionId, done.verdict, done.conclusion, done.failingLogKey);
    },
  );
}
