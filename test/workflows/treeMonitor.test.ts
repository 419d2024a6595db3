/**
 * Tree monitoring and the pipeline on the real dev server: real git (a
 * fixture repository and the git activities), real PostgreSQL, real
 * Schedules, and the real "check before dispatch" against Temporal's
 * pollers: lab A has a worker, lab B never had one. Builds and boots are
 * stand-ins (the end-to-end suite runs real ones).
 *
 * With BF_RECORD_HISTORIES=1 these runs' histories are saved for the replay
 * test (scripts/record-histories.ts).
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { treeMonitor } from '../../workflows/treeMonitor';
import { boardQueue, buildBootWorkflowId, pipelineSpecFor, revisionWorkflowId } from '../../domain/pipelineSpec';
import { createResultActivities } from '../../activities/pipeline/records';
import { createProgressActivities } from '../../activities/pipeline/progress';
import { createConfigActivities } from '../../activities/pipeline/configRecords';
import { createGitActivities } from '../../activities/pipeline/git';
import {
  createLabHealthActivities,
  lastActivityPoll,
  lastSignOfWorker,
  queueWorkers,
  SILENCE_MS,
} from '../../activities/labs/health';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import { ensureTreeSchedules, forcedRunName, startRevision } from '../../plumbing/temporal/schedules';
import { commitChange, createFixtureRepo, headSha, type FixtureRepo } from '../../fixtures/generator';
import type { BuildRequest, BuildResult } from '../../domain/types';
import type { RevisionReport } from '../../domain/revisionReport';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  uniqueId,
  type TestDatabase,
} from '../harness/services';
import { keepHistory } from '../replay/record';
import {
  afterBuildActivities,
  boardWorkers,
  eventually,
  passedBoot,
  passedBuild,
  testConfig,
  type TestConfigOptions,
} from './pipelineFixtures';
import { withWorkers } from './workers';

let db: TestDatabase;
let client: Client;
let closeClient: () => Promise<void>;
let repo: FixtureRepo;

beforeAll(async () => {
  db = await freshDatabase();
  ({ client, close: closeClient } = await temporalClient());
  repo = await createFixtureRepo(join(testDir(), uniqueId('repo-')));
});
afterAll(async () => {
  await closeClient?.();
  await db?.drop();
});

/** One test's own tree, labs and queues; lab B has no worker at all. */
async function devServerSetup(opts: TestConfigOptions & { build?: (req: BuildRequest) => Promise<BuildResult> } = {}) {
  const prefix = `${uniqueId('q')}-`;
  const labA = uniqueId('la');
  const labB = uniqueId('lb');
  const tree = uniqueId('t');
  const cfg = testConfig({ tree, url: repo.url, labs: [labA, labB], configs: 2, ...opts });
  await createConfigActivities({ sql: db.sql }).syncConfig(cfg);
  const taskQueue = `${prefix}bootfarm`;
  const workers = [
    {
      taskQueue,
      workflows: true,
      activities: {
        ...createResultActivities({ sql: db.sql }),
        ...createProgressActivities({ sql: db.sql }),
        ...createGitActivities({ mirrorDir: join(testDir(), uniqueId('mirrors-')) }),
        ...createLabHealthActivities({ client, sql: db.sql }),
        ...createWorkflowLookupActivities({ client }),
        ...afterBuildActivities(db.sql),
      },
    },
    {
      taskQueue: `${prefix}build`,
      activities: { buildKernel: opts.build ?? (async (req: BuildRequest) => passedBuild(req)) },
    },
    ...boardWorkers(cfg, prefix, labA, async (r) => passedBoot(r)),
  ];
  return { prefix, labA, labB, tree, cfg, taskQueue, workers };
}

const countRevisionRuns = async (tree: string) => {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowType = 'revisionPipeline' AND BfTree = '${tree}'` }))
    n++;
  return n;
};

function expectLabBOfflineAtOnce(report: RevisionReport, labA: string, labB: string) {
  const onB = report.boots.filter((b) => b.lab === labB);
  expect(onB.length).toBeGreaterThan(0);
  expect(onB.every((b) => b.status === 'offline' && /no worker polled/.test(b.message))).toBe(true);
  expect(report.boots.filter((b) => b.lab === labA).every((b) => b.status === 'pass')).toBe(true);
}

describe('treeMonitor on the dev server', () => {
  it('starts one pipeline for a head seen twice, none for a head already tested, and a new one when the branch moves', async () => {
    const s = await devServerSetup();
    const input = pipelineSpecFor(s.cfg, s.tree, 'master', { taskQueuePrefix: s.prefix });
    const monitor = () =>
      client.workflow.start(treeMonitor, { taskQueue: s.taskQueue, workflowId: uniqueId('monitor-'), args: [input] });
    await withWorkers('dev-server', s.workers, async () => {
      const head = await headSha(repo, 'master');
      const firstRun = await monitor();
      const first = await firstRun.result();
      expect(first).toEqual({
        action: 'started',
        sha: head,
        workflowId: revisionWorkflowId({ tree: s.tree, branch: 'master', sha: head }),
      });

      const secondRun = await monitor();
      const second = await secondRun.result();
      expect(['already-started', 'already-tested']).toContain(second.action);
      expect(second).toMatchObject({ sha: head, workflowId: first.action === 'started' ? first.workflowId : '' });

      const revision = client.workflow.getHandle(revisionWorkflowId({ tree: s.tree, branch: 'master', sha: head }));
      const report = (await revision.result()) as RevisionReport;
      expect(report.sha).toBe(head);
      expect(report.describe).toMatch(/^v0\.1/);
      expect(report.result).toBe('infra-error'); // lab B's boots are offline
      expectLabBOfflineAtOnce(report, s.labA, s.labB);

      expect((await (await monitor()).result()).action).toBe('already-tested');
      await eventually('the pipeline in visibility', async () => (await countRevisionRuns(s.tree)) >= 1);
      expect(await countRevisionRuns(s.tree)).toBe(1);

      const labs =
        await db.sql`select name, health, last_result_at from labs where name in (${s.labA}, ${s.labB}) order by name`;
      expect(labs.map((l) => [l.name, l.health, l.last_result_at !== null])).toEqual([
        [s.labA, 'online', true],
        [s.labB, 'offline', false],
      ]);

      const moved = await commitChange(repo, { subject: 'kernel: a change the monitor must notice' });
      const fourth = await (await monitor()).result();
      expect(fourth).toMatchObject({ action: 'started', sha: moved });
      await client.workflow.getHandle(revisionWorkflowId({ tree: s.tree, branch: 'master', sha: moved })).result();

      await keepHistory('treeMonitor-started', firstRun);
      await keepHistory('treeMonitor-head-seen-again', secondRun);
      await keepHistory('revisionPipeline-lab-offline', revision);
      await keepHistory(
        'buildBoot-lab-offline',
        client.workflow.getHandle(buildBootWorkflowId({ tree: s.tree, sha: head }, 'x86_64-cfg0')),
      );
    });
  });

  it('creates a Schedule per tree/branch that runs treeMonitor, updates it in place, and prunes branches no longer configured', async () => {
    const s = await devServerSetup({ configs: 1, branches: '[{ name: master, interval: 1h }]' });
    const opts = { taskQueue: s.taskQueue, taskQueuePrefix: s.prefix };
    const masterId = `monitor:${s.tree}:master`;
    const stableId = `monitor:${s.tree}:stable`;
    try {
      await withWorkers('dev-server', s.workers, async () => {
        expect(await ensureTreeSchedules(client, s.cfg, opts)).toEqual({
          created: [masterId],
          updated: [],
          deleted: [],
        });
        // a new schedule checks at once: its monitor starts the pipeline of the head
        const head = await headSha(repo, 'master');
        const revision = client.workflow.getHandle(revisionWorkflowId({ tree: s.tree, branch: 'master', sha: head }));
        await eventually(
          'the pipeline started by the schedule',
          () =>
            revision.describe().then(
              () => true,
              () => false,
            ),
          60_000,
        );
        const report = (await revision.result()) as RevisionReport;
        expect(report.counts.builds.pass).toBe(1);

        const described = await client.schedule.getHandle(masterId).describe();
        expect(described.action).toMatchObject({ workflowType: 'treeMonitor', taskQueue: s.taskQueue });
        expect(described.policies.overlap).toBe('SKIP');
        expect(described.spec.intervals?.[0].every).toBe(3_600_000);
        expect(described.info.recentActions.length).toBeGreaterThanOrEqual(1);

        const faster = testConfig({
          tree: s.tree,
          url: repo.url,
          labs: [s.labA, s.labB],
          configs: 1,
          branches: '[{ name: master, interval: 10m }]',
        });
        expect(await ensureTreeSchedules(client, faster, opts)).toEqual({
          created: [],
          updated: [masterId],
          deleted: [],
        });
        expect((await client.schedule.getHandle(masterId).describe()).spec.intervals?.[0].every).toBe(600_000);

        const moved = testConfig({
          tree: s.tree,
          url: repo.url,
          labs: [s.labA, s.labB],
          configs: 1,
          branches: '[{ name: stable, interval: 1h }]',
        });
        // schedule listing is eventually consistent: prune until the old branch's schedule is seen and deleted
        await eventually('the master schedule pruned', async () =>
          (await ensureTreeSchedules(client, moved, { ...opts, prune: true })).deleted.includes(masterId),
        );
        await expect(client.schedule.getHandle(masterId).describe()).rejects.toThrow(/not found/i);
        await client.schedule.getHandle(stableId).describe();
      });
    } finally {
      for (const id of [masterId, stableId])
        await client.schedule
          .getHandle(id)
          .delete()
          .catch(() => {});
    }
  });

  it('keeps the other configs’ results when an operator terminates one buildBoot child; a forced re-run tests the revision again', async () => {
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    const build = async (req: BuildRequest): Promise<BuildResult> => {
      if (req.config.name === 'x86_64-cfg1') await released; // a wedged builder
      return passedBuild(req);
    };
    const s = await devServerSetup({ configs: 3, build });
    const head = await headSha(repo, 'master');
    const input = { ...pipelineSpecFor(s.cfg, s.tree, 'master', { taskQueuePrefix: s.prefix }), sha: head };
    await withWorkers('dev-server', s.workers, async () => {
      const started = await startRevision(client, input, { taskQueue: s.taskQueue });
      expect(started).toEqual({ workflowId: revisionWorkflowId(input), started: true });
      expect(await startRevision(client, input, { taskQueue: s.taskQueue })).toEqual({
        workflowId: started.workflowId,
        started: false,
      });

      const stuck = client.workflow.getHandle(buildBootWorkflowId(input, 'x86_64-cfg1'));
      await eventually(
        'the wedged child',
        async () => (await stuck.describe().catch(() => null))?.status.name === 'RUNNING',
      );
      await stuck.terminate('operator: builder wedged');
      const revision = client.workflow.getHandle(started.workflowId);
      const report = (await revision.result()) as RevisionReport;
      release();
      const byConfig = Object.fromEntries(report.builds.map((b) => [b.config, b]));
      expect(byConfig['x86_64-cfg1']).toMatchObject({
        status: 'infra-error',
        message: expect.stringMatching(/terminated/i),
      });
      expect([byConfig['x86_64-cfg0'].status, byConfig['x86_64-cfg2'].status]).toEqual(['pass', 'pass']);
      expect(report.boots.filter((b) => b.lab === s.labA && b.status === 'pass')).toHaveLength(4);
      await keepHistory('revisionPipeline-child-terminated', revision);

      const forced = await startRevision(client, { ...input, run: forcedRunName() }, { taskQueue: s.taskQueue });
      expect(forced.started).toBe(true);
      expect(forced.workflowId).not.toBe(started.workflowId);
      const again = (await client.workflow.getHandle(forced.workflowId).result()) as RevisionReport;
      expect(again.builds.every((b) => b.status === 'pass')).toBe(true);
      const builds =
        await db.sql`select config, status, workflow_id from builds where tree = ${s.tree} order by config`;
      expect(builds.map((b) => `${b.config}:${b.status}`)).toEqual([
        'x86_64-cfg0:pass',
        'x86_64-cfg1:pass',
        'x86_64-cfg2:pass',
      ]);
      expect(builds.every((b) => (b.workflow_id as string).endsWith(`:${forced.workflowId.split(':').pop()}`))).toBe(
        true,
      );
      const revs = await db.sql`select workflow_id, result from revisions where tree = ${s.tree}`;
      expect(revs).toEqual([{ workflow_id: forced.workflowId, result: 'infra-error' }]);
    });
  });
});

describe('labHasPollers (check before dispatch) on the dev server', () => {
  it("says a platform is online while its worker polls, offline when nobody polled within the lab's grace, and records it", async () => {
    const lab = uniqueId('lab');
    const queue = boardQueue({ taskQueuePrefix: `${uniqueId('q')}-` }, lab, 'qemu-x86_64');
    await db.sql`insert into labs (name, adapter) values (${lab}, 'qemu')`;
    const graceMs = 5_000;
    const ask = { lab, platform: 'qemu-x86_64', taskQueue: queue, graceMs };
    await withWorkers(
      'dev-server',
      [{ taskQueue: queue, activities: { bootKernel: async () => undefined } }],
      async () => {
        const now = createLabHealthActivities({ client, sql: db.sql });
        await eventually('the worker polling', () => now.labHasPollers(ask));
        const [row] = await db.sql`select health, last_poll_at from labs where name = ${lab}`;
        expect(row.health).toBe('online');
        expect(Date.now() - (row.last_poll_at as Date).getTime()).toBeLessThan(SILENCE_MS);
        expect(await db.sql`select platform, health from lab_platforms where lab = ${lab}`).toEqual([
          { platform: 'qemu-x86_64', health: 'online' },
        ]);
        // the same poll seen from long enough later: the worker went away
        const later = createLabHealthActivities({
          client,
          sql: db.sql,
          now: () => Date.now() + graceMs + SILENCE_MS + 1_000,
        });
        expect(await later.labHasPollers(ask)).toBe(false);
        expect((await db.sql`select health from labs where name = ${lab}`)[0].health).toBe('offline');
        expect((await db.sql`select health from lab_platforms where lab = ${lab}`)[0].health).toBe('offline');
      },
    );
    const never = createLabHealthActivities({ client });
    const nobody = boardQueue({ taskQueuePrefix: `${uniqueId('q')}-` }, 'nobody', 'qemu-x86_64');
    expect(await never.labHasPollers({ lab: 'nobody', platform: 'qemu-x86_64', taskQueue: nobody, graceMs })).toBe(
      false,
    );
  });

  it('sees a worker whose every board is busy, which does not poll, by its heartbeats to Temporal', async () => {
    const queue = boardQueue({ taskQueuePrefix: `${uniqueId('q')}-` }, uniqueId('lab'), 'slow-board');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    // a boot as buildBoot queues it: its workflow runs on the board queue's name too (workflow tasks only)
    const workflows = await Worker.create({
      connection,
      taskQueue: queue,
      workflowsPath: require.resolve('../dashboard/workflows/asyncBoot'),
    });
    const wfRun = workflows.run();
    try {
      await withWorkers(
        'dev-server',
        [
          {
            taskQueue: queue,
            maxConcurrentActivityTaskExecutions: 1,
            activities: { bootKernel: async () => (started(), await held) },
          },
        ],
        async () => {
          // One boot takes the only board: the worker stops polling until it ends.
          await client.workflow.start('asyncBoot', { taskQueue: queue, workflowId: uniqueId('hold-'), args: [{}] });
          await running;
          const lastPoll = (await lastActivityPoll(client, queue))!.getTime();
          const busy = await eventually('a heartbeat of the busy worker', async () => {
            const seen = (await queueWorkers(client, queue)) ?? [];
            return seen.find((w) => w.running && w.busy === 1 && (w.heartbeatAt?.getTime() ?? 0) > lastPoll + 3_000);
          });
          expect(busy).toMatchObject({ running: true, busy: 1, free: 0 });
          expect((await lastSignOfWorker(client, queue))!.getTime()).toBeGreaterThan(lastPoll + 3_000);
          expect((await lastActivityPoll(client, queue))!.getTime()).toBe(lastPoll);
          release();
        },
      );
    } finally {
      release();
      workflows.shutdown();
      await wfRun;
      await connection.close();
    }
  });
});
