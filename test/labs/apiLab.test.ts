/**
 * An API lab runs no worker: its boots wait in lab_jobs, the lab lists them
 * and posts results over the REST API with its token, and that post
 * completes the boot. A job nobody answers becomes offline.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createFixtureRepo, headSha } from '../../fixtures/generator';
import { createBuildActivities } from '../../activities/build/index';
import { createResultActivities } from '../../activities/pipeline/records';
import { createLabHealthActivities } from '../../activities/labs/health';
import { createApiLabActivities } from '../../activities/labs/api';
import { DirStore } from '../../plumbing/store/dirStore';
import { parseConfig } from '../../plumbing/loadConfig';
import { hashLabToken } from '../../plumbing/labToken';
import type { BootTarget, BuildBootInput, BuildBootResult } from '../../domain/types';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  testWorker,
  uniqueId,
  type TestDatabase,
} from '../harness/services';

const TOKEN = 'bfl_api-lab-test-token-0123456789abcdefghijklmnop';

describe('an API lab', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  const cleanup: (() => Promise<unknown>)[] = [];
  const prefix = `${uniqueId('api')}-`;
  const taskQueue = uniqueId('api-orch-');
  let input: Omit<BuildBootInput, 'targets'>;

  const target = (bootTimeout: number, scheduleToStartTimeout: number): BootTarget => ({
    platform: parseConfig(
      'platforms:\n  - {name: qemu-x86_64, arch: x86_64}\nlabs:\n  - {name: farm, adapter: api, platforms: [qemu-x86_64]}\n',
    ).platforms[0],
    lab: { name: 'farm', adapter: 'api', scheduleToStartTimeout, bootTimeout, attempts: 3, offlineGrace: 60_000 },
  });

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = mkdtempSync(join(testDir(), 'api-lab-'));
    const store = new DirStore(join(dir, 'artifacts'));
    const repo = await createFixtureRepo(join(dir, 'tree'));
    const config = parseConfig('buildConfigs:\n  - {name: x86_64-defconfig, arch: x86_64, defconfig: defconfig}\n')
      .buildConfigs[0];
    input = {
      tree: 'apitree',
      url: repo.url,
      sha: await headSha(repo),
      describe: 'v0.1',
      config,
      taskQueuePrefix: prefix,
    };
    await db.sql`insert into labs (name, adapter, token_hash) values ('farm', 'api', ${hashLabToken(TOKEN)})`;
    const { client, close } = await temporalClient();
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const { worker: orchestrator, close: closeOrch } = await testWorker({
      taskQueue,
      activities: { ...createResultActivities({ sql: db.sql }), ...createLabHealthActivities({ client, sql: db.sql }) },
    });
    const builder = await Worker.create({
      connection,
      taskQueue: `${prefix}build`,
      activities: createBuildActivities({
        store,
        workDir: join(dir, 'builder'),
        ccache: false,
        git: { mirrorDir: join(dir, 'mirrors') },
      }),
    });
    const apiLab = await Worker.create({
      connection,
      taskQueue: `${prefix}lab-farm-qemu-x86_64`,
      activities: createApiLabActivities({ sql: db.sql }),
    });
    const workers = [orchestrator, builder, apiLab];
    const running = workers.map((w) => w.run());
    dash = createDashboard({
      sql: db.sql,
      store,
      client,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
    });
    base = (await dash.listen(0)).url;
    cleanup.push(
      () => dash.close(),
      async () => {
        for (const w of workers) w.shutdown();
        await Promise.all(running);
      },
      closeOrch,
      () => connection.close(),
      close,
      () => db.drop(),
    );
    // Lab health reads the queue's pollers: let the api worker poll once.
    await new Promise((r) => setTimeout(r, 1500));
  });
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  /** Starts the build-boot; `done` resolves with its result (not awaited here: the lab must answer first). */
  async function start(t: BootTarget): Promise<{ done: Promise<BuildBootResult> }> {
    const { client, close } = await temporalClient();
    cleanup.unshift(close);
    const handle = await client.workflow.start('buildBoot', {
      taskQueue,
      workflowId: uniqueId('api-build-'),
      args: [{ ...input, targets: [t] }],
    });
    return { done: handle.result() as Promise<BuildBootResult> };
  }

  it("waits for the lab's post, which completes the boot with the lab's verdict and log", async () => {
    const { done } = await start(target(60_000, 60_000));
    const auth = { authorization: `Bearer ${TOKEN}` };
    let jobs: { id: number; status: string }[] = [];
    for (let i = 0; i < 240 && !jobs.length; i++) {
      jobs =
        (
          (await (await fetch(`${base}/api/labs/farm/jobs`, { headers: auth })).json()) as {
            items: { id: number; status: string }[];
          }
        ).items ?? [];
      if (!jobs.length) await new Promise((r) => setTimeout(r, 250));
    }
    expect(jobs).toHaveLength(1);
    const post = await fetch(`${base}/api/labs/farm/jobs/${jobs[0].id}/result`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'fail', log: 'Kernel panic - not syncing: board says no\n', durationMs: 1234 }),
    });
    expect(post.status).toBe(200);
    const { boots } = await done;
    expect(boots).toEqual([expect.objectContaining({ status: 'fail', lab: 'farm', platform: 'qemu-x86_64' })]);
    const [row] = await db.sql`select status, lab from boots where tree = 'apitree'`;
    expect(row).toEqual({ status: 'fail', lab: 'farm' });
  });

  it('records a job that the lab never answers as offline, not as a kernel failure', async () => {
    await db.sql`delete from boots`;
    await db.sql`delete from builds`;
    const { boots } = await (await start(target(1_000, 1_000))).done;
    expect(boots).toEqual([
      expect.objectContaining({ status: 'offline', message: expect.stringContaining('posted no result in time') }),
    ]);
  }, 120_000);
});
