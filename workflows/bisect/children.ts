/**
 * The bisection's build-boot children. Child ids derive from the
 * bisection's id, and a child that already completed under its id (an
 * earlier run of this bisection) is looked up instead of being run again.
 *
 * `lab` is the board of judgedTest.ts: one child per batch of boots, booting
 * a build made earlier when there is one. `testCommit` and `bootSeries` are
 * the bisection from before votes were judged (one boot per step, and
 * series of boots for verify and revert), kept for bisections started then.
 */
import { ActivityFailure, ChildWorkflowFailure, executeChild, patched, proxyActivities } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { BisectInput, BisectStep, KernelRef, StepRole } from '../../domain/bisect';
import type { WorkflowLookupActivities } from '../../domain/activityContracts';
import type { BootResult, BuildBootInput, BuildBootResult, RevertOf } from '../../domain/types';
import { isVerdict } from '../../domain/status';
import { workflowIds } from '../../domain/ids';
import { awaitWorkflow } from '../activityOptions';
import { attemptOutcome, bootsOf, failedChildOutcome, type AttemptOutcome } from './outcome';
import { STEP_ATTEMPTS, type BisectLab, type BootBatch, type TestedCommit } from './judgedTest';

const lookup = proxyActivities<WorkflowLookupActivities>(awaitWorkflow);

/** patch id: a bisection's build-boot children record in rows of their own (BuildBootInput.bisection) */
export const BISECTION_ROWS_APART = 'bisection-rows-apart';

type BuildBootWorkflow = (input: BuildBootInput) => Promise<BuildBootResult>;

/** The child failed, or the earlier run it was looked up from had: the infrastructure's fault, never the kernel's. */
const childLost = (e: unknown): e is ChildWorkflowFailure | ActivityFailure =>
  e instanceof ChildWorkflowFailure || e instanceof ActivityFailure;

export function bisectChildren(ctx: { bisectId: string; input: BisectInput; label: string; verifyRuns: number }) {
  const { tree, url, target, config, branch, buildQueueByArch, taskQueuePrefix } = ctx.input;
  const routing = {
    ...(buildQueueByArch ? { buildQueueByArch } : {}),
    ...(taskQueuePrefix ? { taskQueuePrefix } : {}),
  };

  async function buildBoot(
    workflowId: string,
    sha: string,
    describe: string,
    runs = 1,
    revert?: RevertOf,
    prebuilt?: KernelRef,
  ): Promise<BuildBootResult> {
    const childInput: BuildBootInput = {
      tree,
      branch,
      url,
      sha,
      describe,
      config,
      targets: [target],
      revisionKey: ctx.bisectId,
      ...routing,
      ...(runs > 1 ? { runs } : {}),
      ...(revert ? { revert } : {}),
      // The children's results are the bisection's, in rows of their own; a bisection that began before this
      // change keeps recording as it did.
      ...(patched(BISECTION_ROWS_APART) ? { bisection: ctx.bisectId } : {}),
      ...(prebuilt ? { prebuilt } : {}),
    };
    try {
      return await executeChild<BuildBootWorkflow>('buildBoot', {
        workflowId,
        args: [childInput],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        staticSummary: `${ctx.label}: ${describe}${runs > 1 ? ` × ${runs}` : ''}`,
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return lookup.awaitBuildBoot(workflowId);
      throw e;
    }
  }

  async function attempt(workflowId: string, c: TestedCommit): Promise<AttemptOutcome> {
    try {
      return attemptOutcome(await buildBoot(workflowId, c.sha, c.describe), target);
    } catch (e) {
      if (childLost(e)) return failedChildOutcome(e.cause?.message ?? e.message);
      throw e;
    }
  }

  /** Tests one commit: infrastructure failures are retried once, then the commit is skipped. */
  async function testCommit(c: TestedCommit, role: StepRole, round: number): Promise<BisectStep> {
    let outcome: AttemptOutcome = failedChildOutcome('not started');
    let workflowId = '';
    let attempts = 0;
    while (attempts < STEP_ATTEMPTS) {
      attempts++;
      workflowId = workflowIds.bisectStep(ctx.bisectId, c.sha, attempts);
      outcome = await attempt(workflowId, c);
      if (outcome.verdict !== 'retry') break;
    }
    const gaveUp = outcome.verdict === 'retry';
    return {
      sha: c.sha,
      subject: c.subject,
      role,
      round,
      verdict: gaveUp ? 'skip' : (outcome.verdict as BisectStep['verdict']),
      build: outcome.build,
      boot: outcome.boot,
      attempts,
      workflowId,
      logKey: outcome.logKey,
      message: gaveUp ? `${outcome.message} (${attempts} attempts)` : outcome.message,
      weight: c.weight,
    };
  }

  /**
   * `verifyRuns` pass/fail boots of one commit's build, asked of one child
   * (BuildBootInput.runs); a further child makes up for boots lost to the
   * infrastructure, up to `verifyRuns` children. `revert` when `sha` is
   * Bootfarm's own revert commit, which only the bisection's mirror has.
   */
  async function bootSeries(
    sha: string,
    describe: string,
    idFor: (n: number) => string,
    revert?: RevertOf,
  ): Promise<{ boots: BootResult[]; note?: string }> {
    const want = ctx.verifyRuns;
    const boots: BootResult[] = [];
    for (let n = 1; n <= want && boots.length < want; n++) {
      let result: BuildBootResult;
      try {
        result = await buildBoot(idFor(n), sha, describe, want - boots.length, revert);
      } catch (e) {
        if (childLost(e)) continue;
        throw e;
      }
      if (result.build.status === 'fail') return { boots, note: 'the build failed' };
      boots.push(...bootsOf(result, target).filter((b) => isVerdict(b.status)));
    }
    return {
      boots: boots.slice(0, want),
      note: boots.length < want ? 'boots lost to infrastructure errors' : undefined,
    };
  }

  const lab: BisectLab = {
    async boot(order): Promise<BootBatch> {
      let result: BuildBootResult;
      try {
        result = await buildBoot(order.workflowId, order.sha, order.describe, order.runs, order.revert, order.prebuilt);
      } catch (e) {
        if (childLost(e))
          return { build: 'not-run', message: `build-boot failed: ${e.cause?.message ?? e.message}`, boots: [] };
        throw e;
      }
      const { build } = result;
      if (build.status === 'fail') return { build: 'fail', message: build.errorLines[0], boots: [] };
      return {
        build: build.status,
        ...(build.status === 'infra-error'
          ? { message: `build infra-error: ${build.message ?? 'builder failed'}` }
          : {}),
        ...(build.status === 'pass' ? { kernel: { build } } : {}),
        boots: bootsOf(result, target).map((b) => ({ status: b.status, logKey: b.log?.key, message: b.message })),
      };
    },
  };

  return { testCommit, bootSeries, lab };
}
