/**
 * One revision of a tree/branch: resolve and record it, build and boot it
 * with every build config of the tree (one buildBoot child each, a bounded
 * number at once), wait for all of them, record the summary and return the
 * structured report. A child that fails or times out becomes an infra-error
 * build of its config; the other configs' results are kept.
 */
import {
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { GitActivities, WorkflowLookupActivities } from '../domain/activityContracts';
import type { BuildConfig } from '../domain/config';
import type { BuildBootInput, BuildBootResult, LabsSeenOnline, RevisionInfo } from '../domain/types';
import { bootEntries, buildEntries, countResults, overallResult, type RevisionReport } from '../domain/revisionReport';
import { SA } from '../domain/searchAttributes';
import * as options from './activityOptions';
import { bootTargets, buildBootStartOptions, type RevisionPipelineInput } from '../domain/pipelineSpec';
import { childIds } from './childIds';
import { buildBoot } from './buildBoot';
import { mapBounded } from './mapBounded';
import { failureReason } from './failures';
import { records } from './records';
import { labsSeenOnline } from './labChecks';
import { BOARD_QUEUES_PATCH } from './patches';
import { boardPriority } from '../domain/boardPriority';
import { confirmBootFailures, recordRegressions, releaseReports, startBisections, startReports } from './followUps';
import { revisionPlan } from '../domain/progress';
import { revisionProgressReporter } from './progress';

const git = proxyActivities<GitActivities>(options.gitMetadata);
const lookup = proxyActivities<WorkflowLookupActivities>(options.awaitWorkflow);

export async function revisionPipeline(input: RevisionPipelineInput): Promise<RevisionReport> {
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([
    { key: SA.tree, value: input.tree },
    { key: SA.branch, value: input.branch },
    { key: SA.commit, value: input.sha },
    { key: SA.kind, value: 'revision' },
  ]);
  setCurrentDetails(`resolving ${input.sha} of ${input.tree}/${input.branch}`);

  const rev = await resolve(input, workflowId);
  await records.recordRevisionStart({ ...rev, workflowId });
  const reports = await startReports(input, rev);
  if (rev.sha !== input.sha) upsertSearchAttributes([{ key: SA.commit, value: rev.sha }]);

  const perBoard = patched(BOARD_QUEUES_PATCH);
  const labsSeen = await labsSeenOnline(input, input.labs, perBoard);
  const total = input.buildConfigs.length;
  let done = 0;
  const reporter = revisionProgressReporter(rev, revisionPlan(input));
  // Runs started before the reporter (no patch marker) keep their per-config line, without an await between.
  const oldLine = () =>
    setCurrentDetails(`${rev.describe}: ${done}/${total} build configs done, at most ${input.concurrency} at once`);
  if (reporter) await reporter.update();
  else oldLine();
  const results = await mapBounded(input.buildConfigs, input.concurrency, async (config) => {
    const result = await runChild(input, rev, config, labsSeen, perBoard);
    done++;
    if (reporter) await reporter.update(done === total);
    else oldLine();
    return result;
  });

  const counts = countResults(results);
  const result = overallResult(results.flatMap((r) => [r.build.status, ...r.boots.map((b) => b.status)]));
  await records.recordRevisionSummary({ tree: rev.tree, branch: rev.branch, sha: rev.sha, workflowId, result, counts });
  upsertSearchAttributes([{ key: SA.result, value: result }]);
  setCurrentDetails(`${rev.describe}: confirming boot failures and recording regressions`);
  await confirmBootFailures(input, rev, results, input.confirmations ?? 1, perBoard);
  const classified = await recordRegressions(rev);
  await releaseReports(reports);
  const bisections = await startBisections(input, rev, classified, results);
  const regressed = classified.filter((c) => c.state === 'new-regression').length;
  setCurrentDetails(
    `${result}: ${counts.builds.total} builds (${counts.builds.fail} failed), ${counts.boots.total} boots (${counts.boots.fail} failed, ${counts.boots.offline} offline); ${regressed} new regression(s), ${bisections.length} bisection(s) started`,
  );
  return {
    workflowId,
    tree: rev.tree,
    branch: rev.branch,
    sha: rev.sha,
    describe: rev.describe,
    subject: rev.subject,
    result,
    counts,
    builds: buildEntries(results),
    boots: bootEntries(results),
  };
}

/** A revision that cannot be resolved (unreachable tree, unknown commit) is recorded as an error of that revision and ends the run. */
async function resolve(input: RevisionPipelineInput, workflowId: string): Promise<RevisionInfo> {
  try {
    return await git.resolveRevision.executeWithOptions({ summary: `resolve ${input.sha}` }, [
      { tree: input.tree, branch: input.branch, url: input.url, ref: input.sha },
    ]);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const message = `cannot resolve ${input.sha} of ${input.tree} (${input.url}): ${failureReason(err)}`;
    await records.recordRevisionError({ tree: input.tree, branch: input.branch, sha: input.sha, workflowId, message });
    upsertSearchAttributes([{ key: SA.result, value: 'infra-error' }]);
    setCurrentDetails(message);
    throw ApplicationFailure.create({ type: 'BfRevisionUnresolved', message, nonRetryable: true });
  }
}

async function runChild(
  input: RevisionPipelineInput,
  rev: RevisionInfo,
  config: BuildConfig,
  labsSeen: LabsSeenOnline,
  perBoard: boolean,
): Promise<BuildBootResult> {
  const childInput: BuildBootInput = {
    tree: rev.tree,
    branch: rev.branch,
    url: input.url,
    sha: rev.sha,
    describe: rev.describe,
    config,
    targets: bootTargets(input, config),
    revisionKey: workflowInfo().workflowId,
    labsSeenOnline: labsSeen,
    ...(input.buildQueueByArch ? { buildQueueByArch: true } : {}),
    ...(input.taskQueuePrefix ? { taskQueuePrefix: input.taskQueuePrefix } : {}),
    ...(perBoard ? { bootPriority: boardPriority('routine', rev.tree, input.share) } : {}),
  };
  const start = buildBootStartOptions({ ...childInput, run: input.run }, rev.describe, childIds());
  try {
    const child = await startChild(buildBoot, { ...start, args: [childInput] });
    return await child.result();
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (err instanceof WorkflowExecutionAlreadyStartedError) return adopt(start.workflowId, rev, config);
    return lost(rev, config, start.workflowId, err);
  }
}

/** The same build already ran or runs (another branch at this commit, an earlier attempt of this revision): use its result. */
async function adopt(workflowId: string, rev: RevisionInfo, config: BuildConfig): Promise<BuildBootResult> {
  try {
    return await lookup.awaitBuildBoot.executeWithOptions({ summary: `await ${workflowId}` }, [workflowId]);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return lost(rev, config, workflowId, err);
  }
}

async function lost(
  rev: RevisionInfo,
  config: BuildConfig,
  workflowId: string,
  err: unknown,
): Promise<BuildBootResult> {
  const message = `build-boot ${workflowId} did not complete: ${failureReason(err)}`;
  const buildId = await records.recordLostBuild({ tree: rev.tree, sha: rev.sha, config, workflowId, message });
  return {
    config: config.name,
    arch: config.arch,
    buildId,
    build: { status: 'infra-error', warnings: 0, errors: 0, durationMs: 0, artifacts: {}, errorLines: [], message },
    boots: [],
  };
}
