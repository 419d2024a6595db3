/**
 * What the orchestrator counts is what was recorded: a revision with a build
 * that fails, a lab whose kernels panic and another that passes, run on the
 * time-skipping server with the real record activities and the metrics
 * interceptor. The counters equal the rows, per tree, lab, platform and
 * status; a record run again (a retried workflow task) counts once; no label
 * carries a sha or a workflow id. The revision's own account in the Web UI
 * (its current details) is the line the dashboard and `bootfarm status`
 * compute from the same rows.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Registry } from 'prom-client';
import { revisionPipeline } from '../../workflows/revisionPipeline';
import { revisionStartOptions } from '../../domain/pipelineSpec';
import { createResultActivities } from '../../activities/pipeline/records';
import { createProgressActivities } from '../../activities/pipeline/progress';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import type { BootRecord } from '../../domain/activityContracts';
import type { BootRequest, BuildRequest, RevisionInfo } from '../../domain/types';
import { PipelineMetrics, metricsInterceptor, pipelineObservers } from '../../workers/metrics/pipelineMetrics';
import { revisionProgressFor } from '../../dashboard/data/progress';
import { formatRevisionProgress, type RevisionProgress } from '../../domain/progress';
import { freshDatabase, uniqueId, type TestDatabase } from '../harness/services';
import {
  afterBuildActivities,
  boardWorkers,
  passedBoot,
  passedBuild,
  pipelineInput,
  SHA,
  testConfig,
} from '../workflows/pipelineFixtures';
import { timeSkippingEnv, withWorkers } from '../workflows/workers';

let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  [env, db] = await Promise.all([timeSkippingEnv(), freshDatabase()]);
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
});

const revision = (req: { tree: string; branch: string; url: string }): RevisionInfo => ({
  ...req,
  sha: SHA,
  describe: 'v6.1-rc1-3-gabcdef012345',
  subject: 'mm: fix the thing',
  author: 'A. Developer',
  authorEmail: 'dev@example.org',
  committedAt: '2026-11-01T10:00:00Z',
});

async function samples(registry: Registry, name: string) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []) as { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

describe('the orchestrator counts what the pipeline records', () => {
  it('counts every build and boot once by tree, arch, lab, platform and status, and shows the same progress', async () => {
    const prefix = `${uniqueId('q')}-`;
    const [labA, labB] = [uniqueId('la'), uniqueId('lb')];
    const cfg = testConfig({ tree: uniqueId('t'), labs: [labA, labB], configs: 3, concurrency: 2 });
    const input = pipelineInput(cfg, prefix);
    const registry = new Registry();
    const metrics = new PipelineMetrics(registry);
    metrics.initialise(cfg);
    const interceptor = metricsInterceptor(pipelineObservers(metrics, db.sql));
    const broken = input.buildConfigs[2].name;
    const build = async (req: BuildRequest) =>
      req.config.name === broken
        ? { ...passedBuild(req), status: 'fail' as const, errors: 1, artifacts: {} }
        : passedBuild(req);
    // lab B's kernels panic; lab A's boot
    const boot = async (req: BootRequest) =>
      req.lab === labB ? { ...passedBoot(req), status: 'fail' as const, message: 'Kernel panic' } : passedBoot(req);
    const taskQueue = `${prefix}bootfarm`;
    const start = revisionStartOptions(input);
    const { handle, memo, currentDetails } = await withWorkers(
      env,
      [
        {
          taskQueue,
          workflows: true,
          interceptors: { activity: [interceptor] },
          activities: {
            ...createResultActivities({ sql: db.sql }),
            ...createProgressActivities({ sql: db.sql }),
            ...afterBuildActivities(db.sql),
            ...createWorkflowLookupActivities({ client: env.client }),
            labHasPollers: async () => true,
            resolveRevision: async (req: Parameters<typeof revision>[0]) => revision(req),
          },
        },
        { taskQueue: `${prefix}build`, activities: { buildKernel: build } },
        ...[labA, labB].flatMap((lab) => boardWorkers(cfg, prefix, lab, boot)),
      ],
      async () => {
        const h = await env.client.workflow.start(revisionPipeline, { ...start, taskQueue, args: [input] });
        await h.result();
        // Queries need a worker: asked before the workers stop.
        const meta = await h.query<{ currentDetails: string }>('__temporal_workflow_metadata');
        return { handle: h, memo: (await h.describe()).memo, currentDetails: meta.currentDetails };
      },
    );

    // The rows, grouped as the counters are.
    const bootRows = await db.sql<{ lab: string; platform: string; status: string; n: number }[]>`
      select lab, platform, status, count(*)::int as n from boots where tree = ${input.tree} group by 1, 2, 3`;
    const bootCount = bootRows.reduce((a, r) => a + r.n, 0);
    // 2 passing builds × (2 platforms on A + 1 on B), and lab B's failures booted again to confirm them
    expect(bootCount).toBeGreaterThan(6);
    const counted = (await samples(registry, 'bootfarm_boots_total')).filter(
      (s) => s.labels.tree === input.tree && s.value > 0,
    );
    const key = (x: Record<string, unknown>) => `${x.lab} ${x.platform} ${x.status}`;
    expect(Object.fromEntries(counted.map((s) => [key(s.labels), s.value]))).toEqual(
      Object.fromEntries(bootRows.map((r) => [key(r), r.n])),
    );
    const builds = (await samples(registry, 'bootfarm_builds_total')).filter(
      (s) => s.labels.tree === input.tree && s.labels.arch === 'x86_64',
    );
    expect(Object.fromEntries(builds.map((s) => [s.labels.status, s.value]))).toEqual({
      pass: 2,
      fail: 1,
      'infra-error': 0,
    });
    // The configured series exist before anything happened (so rate() sees a first failure).
    const zero = (await samples(registry, 'bootfarm_boots_total')).find(
      (s) => s.labels.tree === input.tree && s.labels.lab === labA && s.labels.status === 'offline',
    );
    expect(zero?.value).toBe(0);
    const durations = (await samples(registry, 'bootfarm_boot_duration_seconds')).filter(
      (s) => s.metricName === 'bootfarm_boot_duration_seconds_count',
    );
    expect(durations.reduce((a, s) => a + s.value, 0)).toBe(bootCount); // every boot here was the lab's answer
    expect(
      (await samples(registry, 'bootfarm_mails_total')).find(
        (s) => s.labels.kind === 'boot' && s.labels.status === 'sent',
      )?.value,
    ).toBe(1);

    // A record run again counts once.
    const [row] = await db.sql<{ build_id: string; workflow_id: string }[]>`
      select build_id, workflow_id from boots where tree = ${input.tree} and lab = ${labB} limit 1`;
    const again: BootRecord = {
      buildId: Number(row.build_id),
      tree: input.tree,
      sha: SHA,
      config: input.buildConfigs[0].name,
      arch: 'x86_64',
      run: 0,
      result: { status: 'fail', platform: 'qemu-x86_64', lab: labB, durationMs: 900, message: 'Kernel panic' },
      workflowId: row.workflow_id,
      fromLab: true,
    };
    const failsOnB = async () =>
      (await samples(registry, 'bootfarm_boots_total')).find(
        (s) => s.labels.tree === input.tree && s.labels.lab === labB && s.labels.status === 'fail',
      )?.value;
    const before = await failsOnB();
    pipelineObservers(metrics).succeeded.recordBoot([again], 1);
    expect(await failsOnB()).toBe(before);

    // Bounded labels: names and statuses only.
    const text = await registry.metrics();
    expect(text).not.toContain(SHA.slice(0, 12));
    expect(text).not.toMatch(/="(rev|build|report):/);

    // One source of figures: the Web UI's current details are the dashboard's line for the same rows.
    const dashboard = await revisionProgressFor(db.sql, { tree: input.tree, sha: SHA }, memo);
    expect(dashboard.text).toMatch(/^builds 3\/3 \(1 not passed\), boots 6\/6 \(/);
    // The run's last line is its summary; the figures it showed while running are in its markers.
    expect(currentDetails).toMatch(/^fail: 3 builds \(1 failed\), 6 boots/);
    // The figures the run showed as its current details while running: the results of its progress local
    // activities, in its history. The last, taken when every config was done, is the dashboard's line.
    const history = await handle.fetchHistory();
    const shown = (history.events ?? [])
      .map((e) => e.markerRecordedEventAttributes)
      .filter((m) => {
        const data = m?.details?.data?.payloads?.[0]?.data;
        return data && Buffer.from(data).toString('utf8').includes('"revisionProgress"');
      })
      .map((m) => {
        const payload = m?.details?.result?.payloads?.[0]?.data;
        return payload ? (JSON.parse(Buffer.from(payload).toString('utf8')) as RevisionProgress) : undefined;
      });
    expect(shown.length).toBeGreaterThanOrEqual(2); // at the start, and once all were done (a few between at most)
    expect(shown.length).toBeLessThanOrEqual(4);
    expect(formatRevisionProgress(shown[shown.length - 1] as RevisionProgress)).toBe(dashboard.text);
  });
});
