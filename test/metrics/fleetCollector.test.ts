/**
 * The fleet gauges against the real services (the run's dev server and
 * PostgreSQL): a lab whose worker polls is up; one nobody serves holds a
 * boot in its queue, which Temporal's task queue stats report as backlog
 * with its age; one an operator stopped has been offline since the stop;
 * open regressions and running bisections are counted from the database.
 * When the database cannot be read, a scrape still answers: those gauges
 * are left out and an error is counted, never zeros.
 */
import postgres from 'postgres';
import { Registry } from 'prom-client';
import type { Client } from '@temporalio/client';
import { buildBoot } from '../../workflows/buildBoot';
import { createResultActivities } from '../../activities/pipeline/records';
import type { BootfarmConfig, LabConfig } from '../../domain/config';
import { FleetCollector } from '../../workers/metrics/fleetCollector';
import { freshDatabase, temporalClient, uniqueId, type TestDatabase } from '../harness/services';
import { boardWorkers, buildBootInput, passedBoot, passedBuild, testConfig } from '../workflows/pipelineFixtures';
import { withWorkers } from '../workflows/workers';

let db: TestDatabase;
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  db = await freshDatabase();
  ({ client, close: closeClient } = await temporalClient());
});
afterAll(async () => {
  await closeClient?.();
  await db?.drop();
});

type Sample = { labels: Record<string, string | number>; value: number };
async function gauges(registry: Registry): Promise<Record<string, Sample[]>> {
  const all = await registry.getMetricsAsJSON();
  return Object.fromEntries(all.map((m) => [m.name, m.values as Sample[]]));
}
const value = (samples: Sample[] | undefined, labels: Record<string, string>) =>
  samples?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('the fleet gauges', () => {
  it('report each lab up or offline since when, queue backlogs, open regressions and running bisections', async () => {
    const prefix = `${uniqueId('q')}-`;
    const [up, down, stopped] = [uniqueId('up'), uniqueId('down'), uniqueId('stop')];
    const cfg = testConfig({ tree: uniqueId('t'), labs: [up, down] });
    const tree = cfg.trees[0].name;
    const stoppedLab = { ...cfg.labs[1], name: stopped, offlineGrace: 60_000 } as LabConfig;
    const config = { ...cfg, labs: [...cfg.labs, stoppedLab] } as BootfarmConfig;
    await db.sql`insert into labs (name, adapter) values (${up}, 'qemu'), (${down}, 'qemu'), (${stopped}, 'qemu')`;
    await db.sql`update labs set worker_stopped_at = now() - interval '30 seconds' where name = ${stopped}`;
    await db.sql`
      insert into regressions (tree, branch, kind, config, platform, state, first_bad_sha) values
        (${tree}, 'master', 'boot', 'c1', 'p', 'new', 'a1'),
        (${tree}, 'master', 'boot', 'c2', 'p', 'still-failing', 'a2'),
        (${tree}, 'master', 'build', 'c3', '', 'fixed', 'a3')`;
    await db.sql`
      insert into bisections (workflow_id, tree, good_sha, bad_sha, config, platform, created_at)
      values (${uniqueId('bisect:')}, ${tree}, 'g', 'b', 'c1', 'p', now() - interval '10 minutes')`;

    const registry = new Registry();
    new FleetCollector(registry, { sql: db.sql, client, config, taskQueuePrefix: prefix, cacheMs: 1000 });
    const taskQueue = `${prefix}bootfarm`;
    // A build whose boots go to both labs: `up` has a worker, `down` has none, so its boot waits in the queue.
    await withWorkers(
      'dev-server',
      [
        {
          taskQueue,
          workflows: true,
          activities: { ...createResultActivities({ sql: db.sql }), labHasPollers: async () => true },
        },
        { taskQueue: `${prefix}build`, activities: { buildKernel: async (r: never) => passedBuild(r) } },
        ...boardWorkers(cfg, prefix, up, async (r) => passedBoot(r)),
      ],
      async () => {
        const build = await client.workflow.start(buildBoot, {
          taskQueue,
          workflowId: uniqueId('build-'),
          args: [buildBootInput(cfg, prefix)],
        });
        const g = await until('the boot waiting in the queue of the lab without a worker', async () => {
          const now = await gauges(registry);
          return (value(now.bootfarm_queue_backlog_tasks, { lab: down }) ?? 0) >= 1 ? now : undefined;
        });
        expect(value(g.bootfarm_queue_backlog_tasks, { lab: down, queue: `${prefix}lab-${down}-qemu-x86_64` })).toBe(1);
        expect(value(g.bootfarm_queue_backlog_age_seconds, { lab: down })).toBeGreaterThan(0);
        expect(value(g.bootfarm_queue_backlog_tasks, { lab: up })).toBe(0);
        expect(value(g.bootfarm_queue_backlog_tasks, { queue: `${prefix}build`, lab: '' })).toBe(0);
        expect(value(g.bootfarm_lab_up, { lab: up })).toBe(1);
        expect(value(g.bootfarm_lab_offline_seconds, { lab: up })).toBe(0);
        expect(value(g.bootfarm_lab_up, { lab: down })).toBe(0);
        expect(value(g.bootfarm_lab_up, { lab: stopped })).toBe(0);
        expect(value(g.bootfarm_lab_offline_seconds, { lab: stopped })).toBeGreaterThanOrEqual(29);
        expect(value(g.bootfarm_lab_offline_seconds, { lab: stopped })).toBeLessThan(120);
        expect(value(g.bootfarm_lab_offline_grace_seconds, { lab: stopped })).toBe(60);
        expect(value(g.bootfarm_regressions_open, { tree, kind: 'boot' })).toBe(2);
        expect(value(g.bootfarm_regressions_open, { tree, kind: 'build' })).toBeUndefined();
        expect(value(g.bootfarm_bisections_running, { tree })).toBe(1);
        expect(value(g.bootfarm_bisection_running_longest_seconds, { tree })).toBeGreaterThanOrEqual(599);
        expect(value(g.bootfarm_alert_backlog_age_seconds, {})).toBe(900);
        await build.terminate('the test is done with it');
      },
    );
  });

  it('leave out what they cannot read, and count the error, instead of reporting zeros', async () => {
    const broken = postgres('postgres://nobody@127.0.0.1:1/none', { max: 1, connect_timeout: 2, onnotice: () => {} });
    const cfg = testConfig({ tree: uniqueId('t') });
    const registry = new Registry();
    new FleetCollector(registry, {
      sql: broken,
      client,
      config: cfg,
      taskQueuePrefix: `${uniqueId('q')}-`,
      cacheMs: 1000,
    });
    const g = await gauges(registry);
    expect(value(g.bootfarm_metrics_collect_errors_total, { source: 'database' })).toBe(1);
    expect(value(g.bootfarm_metrics_collect_errors_total, { source: 'temporal' })).toBe(0);
    expect(g.bootfarm_regressions_open).toEqual([]);
    expect(g.bootfarm_lab_up).toEqual([]);
    // the queues are still reported: Temporal answered
    expect(g.bootfarm_queue_backlog_tasks.length).toBeGreaterThan(0);
    await broken.end({ timeout: 1 });
  });
});
