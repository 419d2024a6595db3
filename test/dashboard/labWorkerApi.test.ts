/**
 * The embedded stack's lab switch, `POST /api/labs/{lab}/worker`: an
 * operator stops a lab's in-process worker (it drains: the boot it holds
 * finishes, it takes no new one), the lab is offline at once, boots are
 * still queued for it within its grace and recorded offline at dispatch
 * after it; a start runs it again. Real Temporal, real PostgreSQL, a real
 * shell lab program; bad input is refused with the field named.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createConfigActivities } from '../../activities/pipeline/configRecords';
import { labAdmin } from '../../plumbing/db/labAdmin';
import { createLabHealthActivities, lastActivityPoll } from '../../activities/labs/health';
import { DirStore } from '../../plumbing/store/dirStore';
import { taskQueues } from '../../domain/ids';
import type { BootfarmConfig } from '../../domain/config';
import { parseConfig } from '../../plumbing/loadConfig';
import type { ArtifactRef, BootRequest } from '../../domain/types';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { InProcessLabWorkers } from '../../workers/labWorkers';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  uniqueId,
  type TestDatabase,
} from '../harness/services';
import { get, postJson, raw } from './client';
import { asyncBoot } from './workflows/asyncBoot';

const ADMIN = 'admin-token-for-the-lab-switch';
const admin = { authorization: `Bearer ${ADMIN}` };
const GRACE_MS = 60_000;

/** A board that takes three seconds to boot and notes every boot it is given. */
const BOARD = (marks: string) => `#!/bin/sh
echo "$BOOTFARM_BOOT_KEY" >> '${marks}'
echo "Linux version 6.1.0-fixture"
sleep 3
echo "BOOTFARM: boot ok"
`;

describe('the lab switch of the embedded stack: POST /api/labs/{lab}/worker', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let bare: Dashboard;
  let bareBase: string;
  let labs: InProcessLabWorkers;
  let connection: NativeConnection;
  let client: Client;
  let closeClient: () => Promise<void>;
  let bootWorkflows: Worker;
  let bootWorkflowsRunning: Promise<void>;
  let kernel: ArtifactRef;
  let marks: string;
  let config: BootfarmConfig;
  const lab = uniqueId('board-lab-');
  const path = `/api/labs/${lab}/worker`;

  const stoppedAt = async () =>
    ((await db.sql`select worker_stopped_at from labs where name = ${lab}`)[0].worker_stopped_at as Date | null) ??
    null;
  const health = async () => (await db.sql`select health from labs where name = ${lab}`)[0].health as string;
  const booted = async () => (await readFile(marks, 'utf8').catch(() => '')).split('\n').filter(Boolean);

  function bootRequest(n: number): BootRequest {
    const platform = config.platforms[0];
    return {
      tree: 'demo',
      sha: 'c'.repeat(40),
      describe: 'v0.1-1-gcccccccccccc',
      configName: 'x86_64-defconfig',
      arch: 'x86_64',
      platform,
      lab,
      kernel,
      timeoutMs: 60_000,
      bootKey: `${lab}:boot-${n}`,
    };
  }

  /** A boot activity queued for the lab's boards, as buildBoot queues it (the workflow runs on that queue's name too). */
  const queue = taskQueues.labPlatform(lab, 'qemu-x86_64');
  const startBoot = (n: number) =>
    client.workflow.start(asyncBoot, {
      taskQueue: queue,
      workflowId: uniqueId(`${lab}-boot-${n}-`),
      args: [bootRequest(n)],
    });

  beforeAll(async () => {
    const dir = await mkdtemp(join(testDir(), 'lab-switch-'));
    marks = join(dir, 'booted');
    const program = join(dir, 'board.sh');
    await writeFile(program, BOARD(marks));
    await chmod(program, 0o755);
    config = parseConfig(`
dataDir: ${dir}
platforms:
  - { name: qemu-x86_64, arch: x86_64 }
labs:
  - { name: ${lab}, adapter: shell, shell: { program: ${program} }, platforms: [{ name: qemu-x86_64, capacity: 1 }], offlineGrace: ${GRACE_MS / 1000}s }
  - { name: farm, adapter: api, platforms: [qemu-x86_64] }
  - { name: remote, adapter: qemu, platforms: [qemu-x86_64] }
`);
    db = await freshDatabase();
    await createConfigActivities({ sql: db.sql }).syncConfig(config);
    const store = new DirStore(join(dir, 'artifacts'));
    kernel = await store.put('builds/demo/cccccccccccc/x86_64-defconfig/bzImage', 'fixture kernel\n');
    connection = await NativeConnection.connect({ address: temporalAddress() });
    ({ client, close: closeClient } = await temporalClient());
    bootWorkflows = await Worker.create({
      connection,
      taskQueue: queue,
      workflowsPath: require.resolve('./workflows/asyncBoot'),
    });
    bootWorkflowsRunning = bootWorkflows.run();
    labs = new InProcessLabWorkers({ config, connection, namespace: 'default', store }, [lab], {
      record: {
        stopped: (name, at) => labAdmin(db.sql).workerStopped(name, at),
        started: (name) => labAdmin(db.sql).workerStarted(name),
      },
    });
    await labs.startAll();
    const options = { sql: db.sql, store, temporalUiUrl: 'http://127.0.0.1:8233', temporalNamespace: 'default' };
    dash = createDashboard({ ...options, adminToken: ADMIN, labWorkers: labs });
    base = (await dash.listen(0)).url;
    bare = createDashboard({ ...options, adminToken: ADMIN });
    bareBase = (await bare.listen(0)).url;
  });

  afterAll(async () => {
    await dash?.close();
    await bare?.close();
    await labs?.stopAll();
    bootWorkflows?.shutdown();
    await bootWorkflowsRunning;
    await connection?.close();
    await closeClient?.();
    await db?.drop();
  });

  it('refuses bad input with the field named, and changes nothing', async () => {
    const refusals: [string, Promise<{ status: number; json: { error: string; field?: string } }>][] = [
      ['no token', postJson(base, path, { running: false })],
      ['wrong token', postJson(base, path, { running: false }, { authorization: 'Bearer nope' })],
      ['no body field', postJson(base, path, {}, admin)],
      ['not a boolean', postJson(base, path, { running: 'no' }, admin)],
      ['unknown field', postJson(base, path, { running: false, drain: true }, admin)],
      ['not an object', postJson(base, path, [false], admin)],
      ['malformed JSON', postJson(base, path, '{"running":', admin)],
      ['not JSON', raw(base, 'POST', path, { ...admin, 'content-type': 'text/plain' }, 'stop')],
      ['unknown query', postJson(base, `${path}?now=1`, { running: false }, admin)],
      ['unknown platform', postJson(base, path, { running: false, platform: 'qemu-arm64' }, admin)],
      ['malformed platform', postJson(base, path, { running: false, platform: '../x' }, admin)],
      ['malformed lab', postJson(base, '/api/labs/a%20b/worker', { running: false }, admin)],
      ['unknown lab', postJson(base, '/api/labs/nowhere/worker', { running: false }, admin)],
      ['api lab', postJson(base, '/api/labs/farm/worker', { running: false }, admin)],
      ['lab of its own process', postJson(base, '/api/labs/remote/worker', { running: false }, admin)],
      ['no lab workers here', postJson(bareBase, path, { running: false }, admin)],
      ['no lab workers here (GET)', get(bareBase, path)],
      ['unknown lab (GET)', get(base, '/api/labs/nowhere/worker')],
    ];
    const answers = Object.fromEntries(
      await Promise.all(
        refusals.map(async ([what, reply]) => {
          const r = await reply;
          return [what, [r.status, r.json?.field]] as const;
        }),
      ),
    );
    expect(answers).toEqual({
      'no token': [401, 'authorization'],
      'wrong token': [401, 'authorization'],
      'no body field': [400, 'running'],
      'not a boolean': [400, 'running'],
      'unknown field': [400, 'drain'],
      'not an object': [400, 'body'],
      'malformed JSON': [400, 'body'],
      'not JSON': [415, 'content-type'],
      'unknown query': [400, 'now'],
      'unknown platform': [404, 'platform'],
      'malformed platform': [400, 'platform'],
      'malformed lab': [400, 'lab'],
      'unknown lab': [404, 'lab'],
      'api lab': [409, 'lab'],
      'lab of its own process': [409, 'lab'],
      'no lab workers here': [409, 'lab'],
      'no lab workers here (GET)': [409, 'lab'],
      'unknown lab (GET)': [404, 'lab'],
    });
    expect((await postJson(base, '/api/labs/nowhere/worker', { running: false }, admin)).json.error).toBe(
      'no lab "nowhere"',
    );
    expect((await postJson(base, '/api/labs/farm/worker', { running: true }, admin)).json.error).toMatch(
      /farm is an api lab: it runs no worker/,
    );
    expect((await postJson(base, '/api/labs/remote/worker', { running: false }, admin)).json.error).toMatch(
      /lab remote's worker does not run inside this process .*: stop its `bootfarm worker lab --lab remote` process/,
    );
    expect(labs.status(lab)).toMatchObject({ state: 'running', running: true });
    expect(await stoppedAt()).toBeNull();
  });

  it('drains a stopped worker: the boot it holds passes, a boot queued later waits, a start waits for the drain', async () => {
    const first = await startBoot(1);
    for (let i = 0; i < 200 && (await booted()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await booted()).toEqual([`${lab}:boot-1`]);

    const stop = await postJson(base, path, { running: false }, admin);
    expect([stop.status, stop.json]).toEqual([
      202,
      {
        lab,
        running: false,
        state: 'draining',
        boots: 1,
        platforms: [{ name: 'qemu-x86_64', boards: 1, boots: 1, state: 'draining' }],
        since: expect.any(String),
      },
    ]);
    expect(await health()).toBe('offline');
    const second = await startBoot(2);
    const early = await postJson(base, path, { running: true }, admin);
    expect([early.status, early.json.field]).toEqual([409, 'running']);
    expect(early.json.error).toMatch(/still draining 1 boot\(s\)/);

    expect(await first.result()).toMatchObject({ status: 'pass', lab });
    for (let i = 0; i < 100 && labs.status(lab)?.state !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await get(base, path)).json).toMatchObject({ state: 'stopped', running: false, boots: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await booted()).toEqual([`${lab}:boot-1`]); // the second boot was not taken

    const start = await postJson(base, path, { running: true }, admin);
    expect([start.status, start.json.state]).toEqual([200, 'running']);
    expect(await second.result()).toMatchObject({ status: 'pass', lab });
    expect(await booted()).toEqual([`${lab}:boot-1`, `${lab}:boot-2`]);
  });

  it('makes the lab offline at once, still dispatches to it within its grace and not after, and online again once started', async () => {
    const stop = await postJson(base, path, { running: false }, admin);
    expect([stop.status, stop.json.state]).toEqual([200, 'stopped']); // idle: nothing to drain
    const again = await postJson(base, path, { running: false }, admin);
    expect([again.status, again.json.state]).toEqual([200, 'stopped']);
    const at = await stoppedAt();
    expect(at).toBeInstanceOf(Date);
    // Temporal still lists the stopped worker's last poll; the recorded stop outweighs it.
    expect(await lastActivityPoll(client, queue)).not.toBeNull();

    const check = (now: number) =>
      createLabHealthActivities({ client, sql: db.sql, now: () => now }).labHasPollers({
        lab,
        platform: 'qemu-x86_64',
        taskQueue: queue,
        graceMs: GRACE_MS,
      });
    const stoppedMs = (at as Date).getTime();
    expect(await check(stoppedMs + 1_000)).toBe(true);
    expect(await health()).toBe('offline');
    expect(await check(stoppedMs + GRACE_MS + 1_000)).toBe(false);

    const start = await postJson(base, path, { running: true }, admin);
    expect([start.status, start.json]).toEqual([
      200,
      {
        lab,
        running: true,
        state: 'running',
        boots: 0,
        platforms: [{ name: 'qemu-x86_64', boards: 1, boots: 0, state: 'running' }],
        since: expect.any(String),
      },
    ]);
    expect(await stoppedAt()).toBeNull();
    // The new worker polls.
    for (let i = 0; i < 100 && ((await lastActivityPoll(client, queue))?.getTime() ?? 0) <= stoppedMs; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await lastActivityPoll(client, queue))?.getTime()).toBeGreaterThan(stoppedMs);
    expect(await check(Date.now() + GRACE_MS + 1_000)).toBe(true);
    expect(await health()).toBe('online');
  });
});
