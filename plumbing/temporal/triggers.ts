import { join } from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { BootfarmConfig } from '../../domain/config';
import { ensureMirror, resolveCommit } from '../git/mirror';
import { rangeProblem } from '../git/ancestry';
import { forcedRunName, startRevision, type MonitorOptions, type StartRevisionResult } from './schedules';
import { bootTargets, pipelineSpecFor } from '../../domain/pipelineSpec';
import { bisectSettings, type BisectInput, type BisectionRequest } from '../../domain/bisect';
import { sha12, taskQueues, workflowIds } from '../../domain/ids';
import { UserError } from '../../domain/userError';
import { boardPriority } from '../../domain/boardPriority';

/**
 * Trigger one revision by hand (`bootfarm run`, the dashboard's operator
 * API). The commit is resolved to a full sha first, because the workflow id
 * — the trigger's idempotency key — is built from it.
 */
export async function triggerRevision(
  client: Client,
  config: BootfarmConfig,
  req: { tree: string; branch: string; commit?: string; force?: boolean },
  opts: MonitorOptions = {},
): Promise<StartRevisionResult & { sha: string }> {
  const spec = pipelineSpecFor(config, req.tree, req.branch, opts);
  const tree = config.trees.find((t) => t.name === req.tree);
  if (tree && !tree.branches.some((b) => b.name === req.branch))
    throw new UserError(
      `tree ${req.tree} has no monitored branch ${JSON.stringify(req.branch)} (branches: ${tree.branches.map((b) => b.name).join(', ')})`,
    );
  const mirror = await ensureMirror(join(config.dataDir, 'mirrors'), spec.tree, spec.url);
  const ref = req.commit ?? `refs/heads/${req.branch}`;
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : await resolveCommit(mirror, ref);
  if (!sha) throw new UserError(`${req.tree}: no commit ${JSON.stringify(req.commit ?? req.branch)} in ${spec.url}`);
  const started = await startRevision(client, { ...spec, sha, ...(req.force ? { run: forcedRunName() } : {}) }, opts);
  return { ...started, sha };
}

/** Start a bisection by hand (`bootfarm bisect`, the dashboard's operator API); the id makes a repeat a no-op. */
export async function triggerBisection(
  client: Client,
  config: BootfarmConfig,
  req: BisectionRequest,
  opts: MonitorOptions = {},
): Promise<StartRevisionResult> {
  const tree = config.trees.find((t) => t.name === req.tree);
  if (!tree) throw new UserError(`no tree ${JSON.stringify(req.tree)} in the config`);
  const branch = req.branch ?? tree.branches[0].name;
  const spec = pipelineSpecFor(config, tree.name, branch, opts);
  const buildConfig = spec.buildConfigs.find((c) => c.name === req.config);
  if (!buildConfig) throw new UserError(`tree ${tree.name} has no build config ${JSON.stringify(req.config)}`);
  const target = bootTargets(spec, buildConfig).find(
    (t) => t.platform.name === req.platform && (!req.lab || t.lab.name === req.lab),
  );
  if (!target)
    throw new UserError(
      `no lab${req.lab ? ` ${req.lab}` : ''} boots platform ${JSON.stringify(req.platform)} for ${req.config}`,
    );
  const mirror = await ensureMirror(join(config.dataDir, 'mirrors'), spec.tree, spec.url);
  const resolveSha = async (ref: string, what: string) => {
    const sha = await resolveCommit(mirror, ref);
    if (!sha) throw new UserError(`${tree.name}: no ${what} commit ${JSON.stringify(ref)}`);
    return sha;
  };
  const [good, bad] = [await resolveSha(req.good, 'good'), await resolveSha(req.bad, 'bad')];
  const problem = await rangeProblem(mirror, good, bad);
  if (problem) throw new UserError(`${tree.name}: ${problem}`);
  const workflowId = workflowIds.bisect(tree.name, bad, buildConfig.name, target.platform.name);
  const { from, to, cc, textOnly, maxCommitRecipients } = spec.report;
  const input: BisectInput = {
    tree: tree.name,
    branch,
    url: spec.url,
    good,
    bad,
    config: buildConfig,
    target,
    ...bisectSettings(spec.bisect),
    report: { from, to, cc, textOnly, maxCommitRecipients },
    ...(opts.buildQueueByArch ? { buildQueueByArch: true } : {}),
    ...(opts.taskQueuePrefix ? { taskQueuePrefix: opts.taskQueuePrefix } : {}),
  };
  try {
    await client.workflow.start('bisect', {
      taskQueue: opts.taskQueue ?? taskQueues.orchestrator,
      workflowId,
      args: [input],
      // its steps' builds and boots inherit it: ahead of routine boots, fair among trees
      priority: boardPriority('verdict', tree.name, spec.share),
      staticSummary: `bisect ${tree.name} ${buildConfig.name} on ${target.platform.name}: ${sha12(good)}..${sha12(bad)}`,
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}

/**
 * What the dashboard's operator API starts and cancels, bound to a client and
 * a config (the embedded stack and `bootfarm dashboard` alike).
 */
export function operatorTriggers(client: Client, config: BootfarmConfig) {
  return {
    startRevision: async (tree: string, branch: string, commit?: string, force?: boolean) => {
      const r = await triggerRevision(client, config, { tree, branch, commit, force });
      return { workflowId: r.workflowId, started: r.started };
    },
    startBisection: (req: BisectionRequest) => triggerBisection(client, config, req),
    cancelBisection: async (workflowId: string) => {
      await client.workflow.getHandle(workflowId).cancel();
    },
  };
}
