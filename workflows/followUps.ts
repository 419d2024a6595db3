/**
 * A revision pipeline's follow-ups: its report child (started with the
 * revision, released when the results are in), and once its builds and boots
 * are in: boot
 * verdicts that would open, reopen or close a regression are booted again
 * (a lab glitch is not mailed to a list, and neither is a lucky pass), as
 * many times as the series' flake rate asks; regressions are recorded, the
 * reports are released, and each new boot regression gets a bisection when
 * the tree asks for one, told the board's flake rate.
 */
import {
  ParentClosePolicy,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RegressionActivities, SeriesClassification } from '../domain/reports';
import type { BuildBootInput, BuildBootResult, RevisionInfo } from '../domain/types';
import { bisectSettings, type BisectInput } from '../domain/bisect';
import { sha12 } from '../domain/ids';
import { MAX_CONFIRMATIONS } from '../domain/flakiness';
import { childIds } from './childIds';
import * as options from './activityOptions';
import { bootTargets, type RevisionPipelineInput } from '../domain/pipelineSpec';
import { bootOne } from './buildBoot';
import { boardPriority } from '../domain/boardPriority';
import { allResultsInSignal, revisionReports } from './report';
import { bisect } from './bisect';
import { records } from './records';

const regressions = proxyActivities<RegressionActivities>(options.bookkeeping);

const suffixed = (id: string, run?: string) => (run ? `${id}:${run}` : id);

/** The revision's report child, started first so the tree's report delay runs from the revision's start. */
export async function startReports(input: RevisionPipelineInput, rev: RevisionInfo): Promise<string> {
  const workflowId = suffixed(childIds().report(rev.tree, rev.branch, rev.sha), input.run);
  const { from, to, cc, textOnly, delay } = input.report;
  try {
    await startChild(revisionReports, {
      workflowId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `reports of ${rev.tree}/${rev.branch} ${rev.describe}`,
      args: [
        {
          tree: rev.tree,
          branch: rev.branch,
          sha: rev.sha,
          recipients: { from, to, cc, textOnly },
          delayMs: delay,
          threadKey: workflowInfo().workflowId,
        },
      ],
    });
  } catch (err) {
    // A retried pipeline finds its report child already there: it keeps it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}

export async function releaseReports(reportWorkflowId: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(reportWorkflowId).signal(allResultsInSignal);
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The report workflow already ended (its delay passed and its follow-up window closed): nothing to release.
  }
}

/** patch id: confirmations of passes that close a regression too, as many as the series' flake rate asks */
export const CONFIRM_BOTH_WAYS = 'confirm-both-ways';

/**
 * Boot again, on the same build, every verdict that would change a
 * regression: a failure that would open or reopen one, a pass that would
 * close one. Each round asks which series still need a boot (a series stops
 * as soon as a boot disagrees, or when enough agree for its flake rate);
 * MAX_CONFIRMATIONS rounds at most. Runs begun before the patch confirm new
 * failures only, `confirmations` rounds.
 * A verdict waits on these boots, so they go before routine boots
 * (domain/boardPriority.ts).
 */
export async function confirmBootFailures(
  input: RevisionPipelineInput,
  rev: RevisionInfo,
  results: BuildBootResult[],
  confirmations: number,
  perBoard: boolean,
) {
  const key = { tree: rev.tree, branch: rev.branch, sha: rev.sha };
  const bothWays = patched(CONFIRM_BOTH_WAYS);
  const rounds = bothWays ? MAX_CONFIRMATIONS : confirmations;
  for (let round = 0; round < rounds; round++) {
    const todo = bothWays
      ? await regressions.bootsToConfirm(key, { confirmations })
      : await regressions.candidateNewBootRegressions(key, { confirmations });
    if (!todo.length) return;
    await Promise.all(
      todo.flatMap((c) => {
        const result = results.find((r) => r.config === c.config);
        const config = input.buildConfigs.find((b) => b.name === c.config);
        if (!result || !config || result.buildId === undefined || result.build.status !== 'pass') return [];
        const buildInput: BuildBootInput = {
          tree: rev.tree,
          branch: rev.branch,
          url: input.url,
          sha: rev.sha,
          describe: rev.describe,
          config,
          targets: [],
          taskQueuePrefix: input.taskQueuePrefix,
          ...(perBoard ? { bootPriority: boardPriority('verdict', rev.tree, input.share) } : {}),
        };
        const workflowId = suffixed(childIds().buildBoot(rev.tree, rev.sha, config.name), input.run);
        return bootTargets(input, config)
          .filter((t) => t.platform.name === c.platform && c.labs.includes(t.lab.name))
          .map(async (target) => {
            const { result: boot, fromLab } = await bootOne(buildInput, result.build, target, c.run, workflowId, {
              online: async () => true,
              perBoard,
            });
            await records.recordBoot({
              buildId: result.buildId as number,
              tree: rev.tree,
              sha: rev.sha,
              config: config.name,
              arch: config.arch,
              run: c.run,
              result: boot,
              workflowId,
              fromLab,
            });
          });
      }),
    );
  }
}

export async function recordRegressions(rev: RevisionInfo): Promise<SeriesClassification[]> {
  return regressions.recordRegressions({ tree: rev.tree, branch: rev.branch, sha: rev.sha });
}

/** One bisection per new boot regression (per config × platform), on the first lab that saw it fail. */
export async function startBisections(
  input: RevisionPipelineInput,
  rev: RevisionInfo,
  classified: SeriesClassification[],
  results: BuildBootResult[],
): Promise<string[]> {
  if (!input.bisect.enabled) return [];
  const started: string[] = [];
  for (const c of classified) {
    if (c.kind !== 'boot' || c.state !== 'new-regression' || !c.lastGoodSha || !c.firstBadSha) continue;
    const config = input.buildConfigs.find((b) => b.name === c.config);
    // a lab-specific failure is bisected where it fails; otherwise on the first lab that saw it fail
    const failedOn =
      c.onlyInLabs?.[0] ??
      results.find((r) => r.config === c.config)?.boots.find((b) => b.platform === c.platform && b.status === 'fail')
        ?.lab;
    const target =
      config &&
      bootTargets(input, config).find((t) => t.platform.name === c.platform && (!failedOn || t.lab.name === failedOn));
    if (!config || !target) continue;
    const workflowId = childIds().bisect(rev.tree, c.firstBadSha, config.name, c.platform);
    const { from, to, cc, textOnly, maxCommitRecipients } = input.report;
    const args: BisectInput = {
      tree: rev.tree,
      branch: rev.branch,
      url: input.url,
      good: c.lastGoodSha,
      bad: c.firstBadSha,
      config,
      target,
      ...bisectSettings(input.bisect),
      // how often this board fails a good kernel, as the pipeline measured it (domain/flakiness.ts)
      ...(c.flakeRates?.[target.lab.name] !== undefined ? { flakeRate: c.flakeRates[target.lab.name] } : {}),
      report: { from, to, cc, textOnly, maxCommitRecipients },
      ...(input.taskQueuePrefix ? { taskQueuePrefix: input.taskQueuePrefix } : {}),
    };
    try {
      await startChild(bisect, {
        workflowId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // its steps' builds and boots inherit it: ahead of routine boots, fair among trees
        priority: boardPriority('verdict', rev.tree, input.share),
        staticSummary: `bisect ${rev.tree} ${config.name} on ${c.platform}: ${sha12(c.lastGoodSha)}..${sha12(c.firstBadSha)}`,
        args: [args],
      });
      started.push(workflowId);
    } catch (err) {
      // The same regression seen again (a re-run, another branch at the same commit) is bisected once.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return started;
}
