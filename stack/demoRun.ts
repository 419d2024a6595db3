import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../domain/config';
import { ensureTreeSchedules } from '../plumbing/temporal/schedules';
import { triggerRevision } from '../plumbing/temporal/triggers';
import { demoTree, ensureDemoRepo, outcome, pushRegression } from './demo';
import type { progress } from './progress';
import type { BisectResult } from '../domain/bisect';
import type { RevisionReport } from '../domain/revisionReport';
import { SA } from '../domain/searchAttributes';
import { demoSummary, outboxMails } from './demoSummary';

type Progress = ReturnType<typeof progress>;

/** The bisection the pipeline started for the demo regression, once it appears in visibility. */
async function findBisection(client: Client, tree: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for await (const wf of client.workflow.list({ query: `BfKind = "bisect" AND BfTree = "${tree}"` }))
      return wf.workflowId;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return undefined;
}

async function runPipeline(
  client: Client,
  config: BootfarmConfig,
  p: Progress,
  tree: string,
  branch: string,
  label: string,
) {
  const r = await triggerRevision(client, config, { tree, branch });
  p.info(`demo: ${label}: pipeline ${r.workflowId}${r.started ? '' : ' (already started)'}`);
  const result = await p.step(`demo: ${label}: building and booting`, () => outcome(client, r.workflowId));
  return { ...r, result };
}

/**
 * Drives the demo story (stack/demo.ts) and reports progress; resolves true
 * when every step ended as expected. A second start finds the story told and
 * only makes sure the schedules run.
 */
export async function runDemo(client: Client, config: BootfarmConfig, p: Progress): Promise<boolean> {
  try {
    const tree = demoTree(config);
    if (!tree) {
      await ensureTreeSchedules(client, config);
      return true;
    }
    const branch = tree.branches[0].name;
    const { repo, stage } = await ensureDemoRepo(tree);
    const schedules = await ensureTreeSchedules(client, config);
    p.info(`tree schedules: ${[...schedules.created, ...schedules.updated].join(', ')}`);
    if (stage === 2) {
      p.info('demo: the demo tree has already been through its story; see the dashboard (schedules keep polling it)');
      return true;
    }
    const first = await runPipeline(client, config, p, tree.name, branch, 'first push (everything boots)');
    if (first.result === undefined) return false;
    const bad = await pushRegression(repo);
    p.info(
      `demo: pushed the second push, head ${bad.slice(0, 12)} (a boot regression on x86_64-debug, a build failure on i386-tinyconfig)`,
    );
    const second = await runPipeline(client, config, p, tree.name, branch, 'second push (the regression)');
    if (second.result === undefined) return false;
    if (!tree.bisect.enabled) return true;
    const bisectId = await findBisection(client, tree.name, 120_000);
    if (!bisectId) {
      p.info('demo: no bisection was started for the regression');
      return false;
    }
    const result = await p.step(`demo: bisecting the regression (${bisectId})`, () => outcome(client, bisectId));
    if (result === undefined) return false;
    const sa = (await client.workflow.getHandle(bisectId).describe()).typedSearchAttributes;
    const dashboardUrl = config.dashboard.publicUrl ?? `http://127.0.0.1:${config.dashboard.port}`;
    const lines = demoSummary({
      regressed: second.result as RevisionReport,
      bisection: {
        result: result as BisectResult,
        config: sa.get(SA.config) ?? '',
        platform: sa.get(SA.platform) ?? '',
        lab: sa.get(SA.lab) ?? '',
        workflowId: bisectId,
      },
      mails: outboxMails(config.email.outbox),
      dashboardUrl,
      temporalUiUrl: `http://127.0.0.1:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}`,
      outboxDir: config.email.outbox,
    });
    for (const line of lines) p.info(`demo: ${line}`);
    return true;
  } catch (e) {
    p.info(`demo failed: ${(e as Error).message}`);
    return false;
  }
}
