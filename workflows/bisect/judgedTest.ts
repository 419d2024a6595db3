/**
 * Testing one commit on a board that may lie: boot it `runs` times, judge
 * the votes (judge.ts) together with those of its earlier steps, and boot it
 * once more at a time while the vote is split, from the same build. A build
 * failure says nothing about a boot regression (skip); boots that gave no
 * verdict (a lost child, an offline lab, an infrastructure error) are tried
 * once more, then the commit is skipped.
 *
 * The board is a port (BisectLab): the workflow runs build-boot children,
 * the benchmark and the property tests a simulated board.
 */
import type { BisectStep, KernelRef, StepRole } from '../../domain/bisect';
import type { BuildStatus, RevertOf } from '../../domain/types';
import type { Status } from '../../domain/status';
import { judge, voteLead, votesText, type Judgement, type Votes } from './judge';
import { addVotes } from './evidence';

export interface TestedCommit {
  sha: string;
  subject: string;
  describe: string;
  weight?: number;
}

export interface BootOrder {
  sha: string;
  describe: string;
  runs: number;
  /** the child's workflow id: derived from the bisection's id and the commit, so a restarted bisection finds it */
  workflowId: string;
  /** boot this build instead of building again */
  prebuilt?: KernelRef;
  /** `sha` is Bootfarm's revert of a culprit */
  revert?: RevertOf;
}

export interface BootBatch {
  build: BuildStatus | 'not-run';
  /** why the build failed, or why the child gave nothing */
  message?: string;
  /** the build, to boot again without building */
  kernel?: KernelRef;
  boots: { status: Status; logKey?: string; message: string }[];
}

export interface BisectLab {
  boot(order: BootOrder): Promise<BootBatch>;
}

export interface TestPlan {
  role: StepRole;
  round: number;
  runs: number;
  /** votes of the commit's earlier steps, judged with this test's */
  prior: Votes;
  /**
   * What decides when to stop booting: all the commit's votes (a search
   * step), or this test's own (verify and revert judge their own boots).
   */
  decideOn: 'all' | 'own';
  /** the id of this test's n-th child, n from 0 */
  childId: (n: number) => string;
  prebuilt?: KernelRef;
  revert?: RevertOf;
}

export interface TestOutcome {
  step: BisectStep;
  /** this test's own boots, judged alone */
  own: Judgement | 'no-verdict' | 'build-failed';
  kernel?: KernelRef;
}

/** build-boot children before boots that gave no verdict make the commit a skip */
export const STEP_ATTEMPTS = 2;
/** boots added one at a time while the vote is split */
export const MAX_RETESTS = 4;

export async function judgedTest(
  lab: BisectLab,
  c: TestedCommit,
  plan: TestPlan,
  flakeRate: number,
): Promise<TestOutcome> {
  let children = 0;
  let kernel = plan.prebuilt;
  let votes: Votes = { pass: 0, fail: 0 };
  let build: BisectStep['build'] = 'not-run';
  let lastId = '';
  let lost = '';
  /** every boot, with the child that ran it */
  const booted: (BootBatch['boots'][number] & { workflowId: string })[] = [];

  async function boot(runs: number): Promise<BootBatch> {
    const workflowId = plan.childId(children++);
    lastId = workflowId;
    const batch = await lab.boot({
      sha: c.sha,
      describe: c.describe,
      runs,
      workflowId,
      ...(kernel ? { prebuilt: kernel } : {}),
      ...(plan.revert ? { revert: plan.revert } : {}),
    });
    build = batch.build;
    kernel = batch.kernel ?? kernel;
    booted.push(...batch.boots.map((b) => ({ ...b, workflowId })));
    for (const b of batch.boots) {
      if (b.status === 'pass') votes = addVotes(votes, { pass: 1, fail: 0 });
      if (b.status === 'fail') votes = addVotes(votes, { pass: 0, fail: 1 });
    }
    if (batch.message) lost = batch.message;
    return batch;
  }

  const step = (verdict: BisectStep['verdict'], message: string, shown?: (typeof booted)[number]): BisectStep => ({
    sha: c.sha,
    subject: c.subject,
    describe: c.describe,
    role: plan.role,
    round: plan.round,
    verdict,
    build,
    ...(shown ? { boot: shown.status } : {}),
    attempts: children,
    workflowId: shown?.workflowId ?? lastId,
    ...(shown?.logKey ? { logKey: shown.logKey } : {}),
    message,
    ...(c.weight !== undefined ? { weight: c.weight } : {}),
    passes: votes.pass,
    fails: votes.fail,
    boots: booted.length,
  });

  for (let attempt = 0; attempt < STEP_ATTEMPTS; attempt++) {
    const batch = await boot(plan.runs);
    if (batch.build === 'fail')
      return { step: step('skip', `build failed${batch.message ? `: ${batch.message}` : ''}`), own: 'build-failed' };
    if (votes.pass + votes.fail > 0) break;
  }
  if (votes.pass + votes.fail === 0) {
    const last = booted[booted.length - 1];
    const why = last ? `boot ${last.status}: ${last.message}` : lost || 'no boot';
    return { step: step('skip', `${why} (${children} attempts)`, last), own: 'no-verdict', kernel };
  }

  const judgeAll = () => judge(addVotes(plan.prior, votes), flakeRate);
  const judgeOwn = () => judge(votes, flakeRate);
  const deciding = plan.decideOn === 'all' ? judgeAll : judgeOwn;
  for (let retests = 0; deciding() === 'split' && retests < MAX_RETESTS; retests++) await boot(1);

  // still split after the re-tests: the weighted majority, without the lead a verdict wants (the graph
  // check and the culprit's verification are there to catch it if it is wrong)
  const judged = judgeAll();
  const all = addVotes(plan.prior, votes);
  const lead = voteLead(all, flakeRate);
  const verdict = judged !== 'split' ? judged : lead > 0 ? 'good' : lead < 0 ? 'bad' : 'skip';
  const wanted = verdict === 'bad' ? 'fail' : 'pass';
  const shown = booted.find((b) => b.status === wanted) ?? booted[booted.length - 1];
  const message =
    judged === 'split'
      ? `no clear majority after ${booted.length} boots (${votesText(all)} in all): ${verdict === 'skip' ? 'skipped' : `${verdict} by a narrow lead`}`
      : shown.message;
  return { step: step(verdict, message, shown), own: judgeOwn(), kernel };
}
