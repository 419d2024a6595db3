import { mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createApiLabActivities } from '../../activities/labs/api';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { DirStore } from '../../plumbing/store/dirStore';
import type { BootRequest } from '../../domain/types';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  uniqueId,
  type TestDatabase,
} from '../harness/services';
import { FARM_TOKEN, LOCAL_TOKEN, PANIC_LINE, SHA_B, config, populate } from './fixtures';
import { get, postJson, type Reply } from './client';
import { asyncBoot } from './workflows/asyncBoot';

const farm = { authorization: `Bearer ${FARM_TOKEN}` };
const local = { authorization: `Bearer ${LOCAL_TOKEN}` };

function bootRequest(lab: string, n: number): BootRequest {
  const platform = config.platforms.find((p) => p.name === 'qemu-x86_64');
  if (!platform) throw new Error('fixture');
  return {
    tree: 'demo',
    branch: 'master',
    sha: SHA_B,
    describe: 'v6.1-rc1-1-gbbbbbbbb0123',
    configName: 'x86_64-defconfig',
    arch: 'x86_64',
    platform,
    lab,
    kernel: { key: `builds/demo/${SHA_B.slice(0, 12)}/x86_64-defconfig/bzImage`, size: 7 },
    timeoutMs: 120_000,
    bootKey: `build:demo:${SHA_B.slice(0, 12)}:x86_64-defconfig:qemu-x86_64:${lab}:${n}`,
  };
}

describe('lab API: an API lab lists its pending boots and posts results with its token', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let store: DirStore;
  let artifactsDir: string;
  let client: Client;
  let closeClient: () => Promise<void>;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueId('lab-farm-');

  /** Start a boot whose activity parks its task token in lab_jobs, as the api adapter does; wait for the row. */
  async function startBoot(n: number): Promise<{ workflowId: string; jobId: number }> {
    const req = bootRequest('farm', n);
    const workflowId = uniqueId('boot-');
    await client.workflow.start(asyncBoot, { taskQueue, workflowId, args: [req] });
    for (let i = 0; i < 200; i++) {
      const [row] = await db.sql`select id from lab_jobs where boot_key = ${req.bootKey}`;
      if (row) return { workflowId, jobId: Number(row.id) };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the boot never reached the lab queue');
  }

  /** The keys of the logs stored for a job (each post stores its own). */
  async function storedLogs(id: number): Promise<string[]> {
    const entries = await readdir(join(artifactsDir, 'lab-jobs', 'farm', String(id)), { recursive: true }).catch(
      () => [] as string[],
    );
    return entries
      .filter((e) => e.endsWith('console.log'))
      .map((e) => `lab-jobs/farm/${id}/${e}`)
      .sort();
  }

  async function jobStatus(id: number): Promise<string> {
    const [row] = await db.sql`select status from lab_jobs where id = ${id}`;
    return row.status as string;
  }

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = await mkdtemp(join(testDir(), 'dashboard-lab-'));
    artifactsDir = join(dir, 'artifacts');
    store = new DirStore(artifactsDir);
    await populate(db.sql, store, join(dir, 'outbox'));
    ({ client, close: closeClient } = await temporalClient());
    connection = await NativeConnection.connect({ address: temporalAddress() });
    worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: require.resolve('./workflows/asyncBoot'),
      activities: createApiLabActivities({ sql: db.sql }),
    });
    running = worker.run();
    dash = createDashboard({
      sql: db.sql,
      store,
      client,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
    });
    base = (await dash.listen(0)).url;
  });

  afterAll(async () => {
    await dash?.close();
    worker?.shutdown();
    await running;
    await connection?.close();
    await closeClient?.();
    await db?.drop();
  });

  it('lists only its own pending jobs, with absolute artifact URLs, and records the poll', async () => {
    const { jobId } = await startBoot(1);
    expect((await get(base, '/api/labs/farm/jobs')).status).toBe(401);
    expect((await get(base, '/api/labs/farm/jobs', { authorization: 'Bearer bfl_wrong' })).status).toBe(401);
    const other = await get(base, '/api/labs/farm/jobs', local);
    expect([other.status, other.json.field]).toEqual([403, 'lab']);
    expect((await get(base, '/api/labs/local/jobs', local)).json.items).toEqual([]);
    const mine = await get(base, '/api/labs/farm/jobs', farm);
    expect(mine.status).toBe(200);
    expect(mine.json.items).toHaveLength(1);
    expect(mine.json.items[0]).toMatchObject({
      id: jobId,
      bootKey: bootRequest('farm', 1).bootKey,
      platform: bootRequest('farm', 1).platform.name,
      request: { lab: 'farm', configName: 'x86_64-defconfig' },
    });
    // a host with some of the lab's boards asks for its platform's jobs only
    const platform = bootRequest('farm', 1).platform.name;
    expect((await get(base, `/api/labs/farm/jobs?platform=${platform}`, farm)).json.items).toHaveLength(1);
    expect((await get(base, '/api/labs/farm/jobs?platform=other-board', farm)).json.items).toEqual([]);
    const bad = await get(base, '/api/labs/farm/jobs?platform=a%20b', farm);
    expect([bad.status, bad.json.field]).toEqual([400, 'platform']);
    expect(mine.json.items[0].artifacts.kernel).toBe(
      `${base}/artifacts/builds/demo/${SHA_B.slice(0, 12)}/x86_64-defconfig/bzImage`,
    );
    expect(mine.json.items[0].resultUrl).toBe(`${base}/api/labs/farm/jobs/${jobId}/result`);
    const kernel = await get(base, new URL(mine.json.items[0].artifacts.kernel).pathname);
    expect(kernel.status).toBe(200);
    const [lab] = await db.sql`select last_poll_at from labs where name = 'farm'`;
    expect(lab.last_poll_at).toBeInstanceOf(Date);
  });

  it('refuses a wrong token (401), another lab (403) and a malformed result (400 naming the field), recording nothing', async () => {
    const { workflowId, jobId } = await startBoot(2);
    const url = `/api/labs/farm/jobs/${jobId}/result`;
    const [before] = await db.sql`select last_result_at from labs where name = 'farm'`;
    const good = { status: 'pass', log: 'BOOTFARM: boot ok\n' };
    const expectRefused = (r: Reply, status: number, field: string) =>
      expect([r.status, r.json?.field]).toEqual([status, field]);

    expectRefused(await postJson(base, url, good), 401, 'authorization');
    expectRefused(await postJson(base, url, good, { authorization: 'Bearer bfl_wrong' }), 401, 'authorization');
    expectRefused(await postJson(base, url, good, local), 403, 'lab');
    expectRefused(await postJson(base, `/api/labs/local/jobs/${jobId}/result`, good, local), 403, 'id');
    expectRefused(await postJson(base, '/api/labs/farm/jobs/987654/result', good, farm), 404, 'id');
    expectRefused(await postJson(base, '/api/labs/farm/jobs/abc/result', good, farm), 400, 'id');
    expectRefused(await postJson(base, url, { log: 'x' }, farm), 400, 'status');
    expectRefused(await postJson(base, url, { status: 'exploded' }, farm), 400, 'status');
    expectRefused(await postJson(base, url, { status: 'offline' }, farm), 400, 'status');
    expectRefused(await postJson(base, url, { status: 'pass', durationMs: -5 }, farm), 400, 'durationMs');
    expectRefused(await postJson(base, url, { status: 'pass', log: 42 }, farm), 400, 'log');
    expectRefused(await postJson(base, url, { status: 'pass', verdict: 'ok' }, farm), 400, 'verdict');
    expectRefused(await postJson(base, url, '{"status": "pass"', farm), 400, 'body');
    expectRefused(await postJson(base, url, good, { ...farm, 'content-type': 'text/plain' }), 415, 'content-type');

    expect(await jobStatus(jobId)).toBe('pending');
    expect(await storedLogs(jobId)).toEqual([]);
    const [after] = await db.sql`select last_result_at from labs where name = 'farm'`;
    expect(after.last_result_at).toEqual(before.last_result_at);
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
    await client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('accepts a valid result: the waiting boot completes with it, once', async () => {
    const { workflowId, jobId } = await startBoot(3);
    const [before] = await db.sql`select last_result_at from labs where name = 'farm'`;
    const log = `Linux version 6.1.0\n${PANIC_LINE}\n`;
    const r = await postJson(
      base,
      `/api/labs/farm/jobs/${jobId}/result`,
      { status: 'fail', log, message: PANIC_LINE, durationMs: 1234 },
      farm,
    );
    expect(r.status).toBe(200);
    const result = await client.workflow.getHandle(workflowId).result();
    expect(result).toEqual({
      status: 'fail',
      platform: 'qemu-x86_64',
      lab: 'farm',
      durationMs: 1234,
      log: {
        key: expect.stringMatching(new RegExp(`^lab-jobs/farm/${jobId}/[0-9a-f]{12}/console\\.log$`)),
        size: Buffer.byteLength(log),
      },
      message: PANIC_LINE,
    });
    expect(await storedLogs(jobId)).toEqual([result.log?.key]);
    expect((await store.get(result.log!.key)).toString()).toBe(log);
    expect(await jobStatus(jobId)).toBe('done');
    const [lab] = await db.sql`select last_result_at from labs where name = 'farm'`;
    expect(lab.last_result_at.getTime()).toBeGreaterThan(before.last_result_at.getTime());
    const again = await postJson(base, `/api/labs/farm/jobs/${jobId}/result`, { status: 'pass' }, farm);
    expect([again.status, again.json.field]).toEqual([409, 'id']);
    expect((await get(base, '/api/labs/farm/jobs', farm)).json.items.map((j: { id: number }) => j.id)).not.toContain(
      jobId,
    );
  });

  it('answers 409 for a boot that stopped waiting, and marks its job expired', async () => {
    const { workflowId, jobId } = await startBoot(4);
    await client.workflow.getHandle(workflowId).terminate('the lab took too long');
    const r = await postJson(base, `/api/labs/farm/jobs/${jobId}/result`, { status: 'pass', log: 'late\n' }, farm);
    expect([r.status, r.json.field]).toEqual([409, 'id']);
    expect(await jobStatus(jobId)).toBe('expired');
    expect(await storedLogs(jobId)).toEqual([]);
  });

  it('a lab that retries its post after a failed commit never loses the log the recorded boot points at', async () => {
    // The first post completes the boot, then its transaction's COMMIT fails (a deferred trigger
    // raises once: sequences are not rolled back), so the lab sees a 500 and posts again.
    await db.sql.unsafe(`
      create sequence commit_failures;
      create function fail_first_done() returns trigger language plpgsql as $$
      begin
        if new.status = 'done' and nextval('commit_failures') = 1 then
          raise exception 'injected: the commit failed';
        end if;
        return new;
      end $$;
      create constraint trigger fail_first_done after update on lab_jobs
        deferrable initially deferred for each row execute function fail_first_done();`);
    try {
      const { workflowId, jobId } = await startBoot(5);
      const url = `/api/labs/farm/jobs/${jobId}/result`;
      const log = `Linux version 6.1.0\nBOOTFARM: boot ok\n`;
      const first = await postJson(base, url, { status: 'pass', log, durationMs: 900 }, farm);
      expect(first.status).toBe(500);
      const booted = await client.workflow.getHandle(workflowId).result();
      expect(booted).toMatchObject({ status: 'pass', log: { size: Buffer.byteLength(log) } });

      const retry = await postJson(base, url, { status: 'pass', log, durationMs: 900 }, farm);
      expect([retry.status, retry.json.field]).toEqual([409, 'id']);
      expect(await storedLogs(jobId)).toEqual([booted.log!.key]);
      expect((await store.get(booted.log!.key)).toString()).toBe(log);
    } finally {
      await db.sql.unsafe(
        'drop trigger fail_first_done on lab_jobs; drop function fail_first_done; drop sequence commit_failures',
      );
    }
  });
});
