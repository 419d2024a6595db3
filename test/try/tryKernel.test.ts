/**
 * `bootfarm try` end to end on the run's dev server: a developer with a
 * token uploads a kernel built by hand (the fixture kernel, built with
 * fixtures/build.ts) through the REST API, the tryKernel workflow boots it
 * on the real QEMU lab with a test plan, and `bootfarm try` prints the
 * console, the results and the workflow's link. Bad uploads are refused
 * before anything boots.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { parseConfig } from '../../plumbing/loadConfig';
import { DirStore } from '../../plumbing/store/dirStore';
import { tryAdmin } from '../../plumbing/db/tryAdmin';
import { tryStarter } from '../../plumbing/temporal/tryRuns';
import { createLabActivities } from '../../activities/labs';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { API_ROUTES } from '../../dashboard/api/routes';
import { buildKernel } from '../../fixtures/build';
import { exportTree, linearHistory } from '../../fixtures/generator';
import type { TryResult } from '../../domain/tryRun';
import { freshDatabase, temporalClient, testDir, uniqueId, type TestDatabase } from '../harness/services';
import { withWorkers, type WorkerSpec } from '../workflows/workers';
import { keepHistory } from '../replay/record';

const BIN = join(__dirname, '../../bin/bootfarm.js');
const run = promisify(execFile);

const config = parseConfig(
  `
platforms:
  - { name: qemu-x86_64, arch: x86_64, memoryMb: 128, bootTimeout: 30s }
  - { name: qemu-arm, arch: arm, soc: qemu-virt, memoryMb: 128, bootTimeout: 30s }
  - { name: qemu-arm64, arch: arm64, memoryMb: 128 }
labs:
  - { name: qemu, adapter: qemu, platforms: [qemu-x86_64, qemu-arm, qemu-arm64] }
testSuites:
  - { name: string, prefix: fixture, arches: [x86_64, arm] }
  - { name: kernel, prefix: fixture, arches: [x86_64, arm] }
  - { name: timers, prefix: kselftest, arches: [arm64] }
testPlans:
  - { name: smoke, suites: [string, kernel], timeout: 30s, platforms: [qemu-x86_64, qemu-arm] }
  - { name: kselftest-timers, suites: [timers], platforms: [qemu-arm64] }
try: { maxUploadMb: 1, perHour: 3, uploadsPerHour: 20 }
`,
  'try.yaml',
);

let db: TestDatabase;
let dir: string;
let store: DirStore;
let temporal: { client: Client; close(): Promise<void> };
let dash: Dashboard;
let base: string;
let token: string;
let otherToken: string;
const prefix = `${uniqueId('try')}-`;
const files = {} as Record<'good' | 'broken' | 'arm' | 'text' | 'huge', string>;

beforeAll(async () => {
  dir = await mkdtemp(join(testDir(), 'try-'));
  const { repo, shas } = await linearHistory(join(dir, 'repo'), 1, {
    1: { subject: 'lib/string: copy backwards', effect: 'break-test' },
  });
  for (const [name, sha, arch, defconfig] of [
    ['good', shas[0], 'x86_64', 'defconfig'],
    ['broken', shas[1], 'x86_64', 'defconfig'],
    ['arm', shas[0], 'arm', 'multi_v7_defconfig'],
  ] as const) {
    const src = join(dir, `src-${name}`);
    await exportTree(repo, sha, src);
    const build = await buildKernel(src, { arch, defconfig, outDir: join(dir, `out-${name}`) });
    if (!build.ok) throw new Error(`fixture build ${name} failed:\n${build.log}`);
    files[name] = build.image;
  }
  files.text = join(dir, 'notes.txt');
  await writeFile(files.text, 'these are not the kernels you are looking for\n'.repeat(40));
  files.huge = join(dir, 'huge.img');
  await writeFile(files.huge, randomBytes(1024 * 1024 + 1));

  [db, temporal] = await Promise.all([freshDatabase(), temporalClient()]);
  store = new DirStore(join(dir, 'artifacts'));
  dash = createDashboard({
    sql: db.sql,
    store,
    client: temporal.client,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: 'default',
    startTry: tryStarter({ client: temporal.client, config, store, sql: db.sql, taskQueuePrefix: prefix }),
    tryLimits: config.try,
  });
  base = (await dash.listen(0)).url;
  token = await tryAdmin(db.sql).newToken('alice@example.org');
  otherToken = await tryAdmin(db.sql).newToken('bob');
}, 300_000);

afterAll(async () => {
  await dash?.close();
  await Promise.all([db?.drop(), temporal?.close()]);
});

const workers = (): WorkerSpec[] => [
  { taskQueue: `${prefix}bootfarm`, workflows: true },
  {
    taskQueue: `${prefix}lab-qemu`,
    activities: createLabActivities({ lab: config.labs[0], store, workDir: join(dir, 'lab') }),
  },
];

async function bootfarmTry(args: string[], tok = token): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'try', '--url', base, '--token', tok, ...args], {
      timeout: 240_000,
      env: { ...process.env, BOOTFARM_CONFIG: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout: string; stderr: string };
    return { code: err.code ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

/** GET /api/try/{id} as `tok`'s developer, its answer checked against the route's declared (and documented) schema. */
async function readRun(
  workflowId: string,
  tok = token,
): Promise<{ status: string; result?: TryResult; console?: string }> {
  const res = await fetch(`${base}/api/try/${encodeURIComponent(workflowId)}`, {
    headers: { authorization: `Bearer ${tok}` },
  });
  expect(res.status).toBe(200);
  const answer = (await res.json()) as { status: string; result?: TryResult; console?: string };
  const route = API_ROUTES.find((r) => r.method === 'GET' && r.path === '/api/try/{id}')!;
  expect(route.answers[200].schema.safeParse(answer).error?.issues ?? []).toEqual([]);
  return answer;
}

const tryKeys = async () => (await readdir(join(dir, 'artifacts', 'try')).catch(() => [] as string[])).length;
const runs = async () => (await db.sql`select count(*)::int as n from try_runs`)[0].n as number;

describe('bootfarm try', () => {
  it("boots a kernel built by hand with the developer's plan and prints its console, results and workflow", async () => {
    const out = await withWorkers('dev-server', workers(), () =>
      bootfarmTry(['--kernel', files.good, '--platform', 'qemu-x86_64', '--plan', 'smoke']),
    );
    expect(out.stderr).toMatch(/^uploaded .*bzImage \(\d+ bytes\) as try\/alice@example\.org\/[0-9a-f]{16}\/kernel$/m);
    expect(out.stdout).toMatch(/^started: try:alice@example\.org:[0-9a-f]{12}$/m);
    expect(out.stdout).toContain('Linux version 6.1.0-fixture');
    expect(out.stdout).toContain('bootfarm.tests=string,kernel');
    expect(out.stdout).toMatch(/^boot: pass: BOOTFARM: boot ok \(qemu-x86_64 in lab qemu\)$/m);
    expect(out.stdout).toMatch(/^tests: 7 passed, 0 failed, 1 skipped, 0 errors, 0 not run$/m);
    expect(out.stdout).toMatch(/^ {2}SKIP {2}fixture\.kernel\.modules: CONFIG_MODULES is not set$/m);
    expect(out.stdout).toMatch(
      /^workflow: http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/try%3Aalice%40example\.org%3A/m,
    );
    expect(out.code).toBe(0);

    const workflowId = /^started: (\S+)$/m.exec(out.stdout)![1];
    const handle = temporal.client.workflow.getHandle(workflowId);
    const result = (await handle.result()) as TryResult;
    expect(result).toMatchObject({ developer: 'alice@example.org', platform: 'qemu-x86_64', lab: 'qemu' });
    expect(result.boot.tests!.results!.key).toBe(`boots/${workflowId}/tests.json`);
    await keepHistory('tryKernel-with-plan', handle);
    const answer = await readRun(workflowId);
    expect(answer).toMatchObject({ status: 'completed', result });
    expect(answer.console).toContain('BOOTFARM: boot ok');

    // someone else's token sees nothing of it; a lab's token is not a developer's
    const peek = await fetch(`${base}/api/try/${encodeURIComponent(workflowId)}`, {
      headers: { authorization: `Bearer ${otherToken}` },
    });
    expect(peek.status).toBe(404);
    const lab = await fetch(`${base}/api/try/${encodeURIComponent(workflowId)}`, {
      headers: { authorization: 'Bearer bfl_some-lab-token' },
    });
    expect(lab.status).toBe(401);
  });

  it('a kernel that breaks a test case: the boot passes, the failing paths are listed and the command fails', async () => {
    const out = await withWorkers('dev-server', workers(), () =>
      bootfarmTry(['--kernel', files.broken, '--platform', 'qemu-x86_64', '--plan', 'smoke']),
    );
    expect(out.stdout).toMatch(/^boot: pass: /m);
    expect(out.stdout).toMatch(/^ {2}FAIL {2}fixture\.string\.memcpy$/m);
    expect(out.code).toBe(1);
  });

  it('refuses uploads that are not a kernel for the platform, oversize ones and unknown plans: nothing boots', async () => {
    const before = { runs: await runs(), keys: await tryKeys() };
    const wrongArch = await bootfarmTry(['--kernel', files.arm, '--platform', 'qemu-x86_64']);
    expect(wrongArch.code).toBe(1);
    expect(wrongArch.stderr).toMatch(
      /^bootfarm: kernel try\/\S+: an arm zImage, not a kernel for x86_64: expected an x86_64 bzImage or a multiboot kernel \(platform qemu-x86_64\)$/m,
    );
    const notKernel = await bootfarmTry(['--kernel', files.text, '--platform', 'qemu-arm']);
    expect(notKernel.stderr).toMatch(
      /^bootfarm: kernel try\/\S+: not a kernel image: expected a 32-bit ARM zImage \(platform qemu-arm\)$/m,
    );
    const huge = await bootfarmTry(['--kernel', files.huge, '--platform', 'qemu-x86_64']);
    expect(huge.stderr).toMatch(/^bootfarm: the upload is larger than 1048576 bytes \(try\.maxUploadMb\)$/m);
    const plan = await bootfarmTry(['--kernel', files.good, '--platform', 'qemu-x86_64', '--plan', 'nope']);
    expect(plan.stderr).toMatch(/^bootfarm: unknown test plan "nope" \(testPlans: smoke, kselftest-timers\)$/m);
    const archPlan = await bootfarmTry([
      '--kernel',
      files.good,
      '--platform',
      'qemu-x86_64',
      '--plan',
      'kselftest-timers',
    ]);
    expect(archPlan.stderr).toMatch(
      /^bootfarm: plan kselftest-timers does not run on qemu-x86_64 \(its platforms: qemu-arm64\)$/m,
    );
    const ramdisk = await bootfarmTry(['--kernel', files.good, '--ramdisk', files.good, '--platform', 'qemu-x86_64']);
    expect(ramdisk.stderr).toMatch(/^bootfarm: ramdisk try\/\S+: not an initramfs/m);
    const platform = await bootfarmTry(['--kernel', files.good, '--platform', 'qemu-mips']);
    expect(platform.stderr).toMatch(
      /^bootfarm: unknown platform "qemu-mips" \(platforms: qemu-x86_64, qemu-arm, qemu-arm64\)$/m,
    );
    const noToken = await bootfarmTry(['--kernel', files.good, '--platform', 'qemu-x86_64'], 'bft_wrong');
    expect(noToken.stderr).toMatch(/^bootfarm: invalid developer token$/m);
    for (const r of [wrongArch, notKernel, huge, plan, archPlan, ramdisk, platform, noToken]) {
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('started:');
    }
    // nothing started; the oversize upload left nothing in the store
    expect(await runs()).toBe(before.runs);
    const uploads = await db.sql`select count(*)::int as n from try_uploads where size > 1048576`;
    expect(uploads[0].n).toBe(0);
  });

  it("is rate-limited per developer: the next try waits, another developer's does not", async () => {
    // alice has two runs from the tests above; the limit is 3 an hour
    const third = await bootfarmTry(['--kernel', files.good, '--platform', 'qemu-x86_64', '--no-wait']);
    expect(third.code).toBe(0);
    const fourth = await bootfarmTry(['--kernel', files.good, '--platform', 'qemu-x86_64', '--no-wait']);
    expect(fourth.code).toBe(1);
    expect(fourth.stderr).toMatch(
      /^bootfarm: alice@example\.org has made 3 tries in the last hour \(the limit is 3\) \(retry in \d+s\)$/m,
    );
    const bob = await bootfarmTry(['--kernel', files.good, '--platform', 'qemu-x86_64', '--no-wait'], otherToken);
    expect(bob.code).toBe(0);
    // the runs nobody boots (no workers here) are running as far as their developer can tell
    expect(await readRun(/^started: (\S+)$/m.exec(bob.stdout)![1], otherToken)).toMatchObject({ status: 'running' });
    // and are cancelled
    for (const id of [third, bob].map((r) => /^started: (\S+)$/m.exec(r.stdout)![1]))
      await temporal.client.workflow.getHandle(id).terminate('test over');
  });
});
