/**
 * An API lab's boot with a test plan: the parked job carries the plan, the
 * lab's result post carries KTAP or structured results, checked against the
 * plan (a post that names a test outside it, or gives both forms, is refused
 * and completes nothing), and the boot's result comes back with its summary.
 */
import { parseConfig } from '../../plumbing/loadConfig';
import type { BootResult, BootTarget, BuildBootInput, BuildBootResult } from '../../domain/types';
import { API_ROUTES } from '../../dashboard/api/routes';
import { readTestResults } from '../../plumbing/store/testResults';
import type { BootTests } from '../../domain/testPlans';
import type { DirStore } from '../../plumbing/store/dirStore';
import { temporalClient, uniqueId, type TestDatabase } from '../harness/services';
import { startApiLabStack, type ApiLabStack } from './support/apiLabStack';

const TOKEN = 'bfl_api-lab-plan-token-0123456789abcdefghijklmnop';
const auth = { authorization: `Bearer ${TOKEN}` };
const resultRoute = API_ROUTES.find((r) => r.path === '/api/labs/{lab}/jobs/{id}/result')!;
const plan: BootTests = {
  suites: [
    { plan: 'kselftest', suite: 'timers', prefix: 'kselftest' },
    { plan: 'kselftest', suite: 'size', prefix: 'kselftest' },
  ],
  timeoutMs: 60_000,
};

describe('an API lab with a test plan', () => {
  let stack: ApiLabStack;
  let db: TestDatabase;
  let base: string;
  let store: DirStore;
  let taskQueue: string;
  let input: Omit<BuildBootInput, 'targets'>;
  const cleanup: (() => Promise<unknown>)[] = [];
  const target: BootTarget = {
    platform: parseConfig(
      'platforms:\n  - {name: board-x86, arch: x86_64}\nlabs:\n  - {name: farm, adapter: api, platforms: [board-x86]}\n',
    ).platforms[0],
    lab: {
      name: 'farm',
      adapter: 'api',
      scheduleToStartTimeout: 60_000,
      bootTimeout: 60_000,
      attempts: 3,
      offlineGrace: 60_000,
    },
    tests: plan,
  };

  beforeAll(async () => {
    stack = await startApiLabStack({ tree: 'apitests', token: TOKEN, platform: 'board-x86' });
    ({ db, base, store, taskQueue, input } = stack);
  });
  afterAll(async () => {
    for (const c of cleanup) await c();
    await stack?.close();
  });

  /** Starts a build-boot and waits for its job in the lab's queue. */
  async function job(): Promise<{ id: number; request: Record<string, unknown>; done: Promise<BuildBootResult> }> {
    const { client, close } = await temporalClient();
    cleanup.unshift(close);
    const handle = await client.workflow.start('buildBoot', {
      taskQueue,
      workflowId: uniqueId('apit-build-'),
      args: [{ ...input, targets: [target] }],
    });
    const done = handle.result() as Promise<BuildBootResult>;
    for (let i = 0; i < 480; i++) {
      const { items } = (await (await fetch(`${base}/api/labs/farm/jobs`, { headers: auth })).json()) as {
        items: { id: number; request: Record<string, unknown> }[];
      };
      if (items.length) return { ...items[0], done };
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('no job in the lab queue');
  }

  /** The test_results rows of the tree's boots (one boot row: every job boots the same build on the same target). */
  const testRows = async () =>
    db.sql`select path, plan, status, reason, log_excerpt from test_results where tree = 'apitests' order by path`.then(
      (rows) => rows.map((r) => ({ ...r })),
    );

  const post = (id: number, body: unknown) =>
    fetch(`${base}/api/labs/farm/jobs/${id}/result`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses results outside the plan or in both forms, and completes the boot with the KTAP it then posts', async () => {
    const { id, request, done } = await job();
    expect(request.tests).toEqual(plan); // the lab sees what to run

    const outside = await post(id, {
      status: 'pass',
      tests: [
        { path: 'kselftest.timers.posix_timers', status: 'PASS' },
        { path: 'kselftest.net.tcp', status: 'FAIL' },
      ],
    });
    expect(outside.status).toBe(400);
    expect(await outside.json()).toEqual({
      error: "kselftest.net.tcp is not a test of the boot's plan (its suites: kselftest.timers, kselftest.size)",
      field: 'tests.1.path',
    });
    const both = await post(id, { status: 'pass', ktap: 'TAP version 13\n1..0\n', tests: [] });
    expect(both.status).toBe(400);
    expect(((await both.json()) as { error: string }).error).toBe('give the results as ktap or as tests, not both');
    const badPath = await post(id, { status: 'pass', tests: [{ path: 'kselftest..x', status: 'PASS' }] });
    expect(badPath.status).toBe(400);
    const tooMany = await post(id, {
      status: 'pass',
      tests: Array.from({ length: 20_001 }, (_, i) => ({ path: `kselftest.size.c${i}`, status: 'PASS' })),
    });
    expect(tooMany.status).toBe(400);
    // nothing was completed: the job still waits
    const [pending] = await db.sql`select status from lab_jobs where id = ${id}`;
    expect(pending.status).toBe('pending');

    const ktap = [
      'TAP version 13',
      '1..2',
      '# selftests: timers: posix_timers',
      'ok 1 selftests: timers: posix_timers',
      '# selftests: timers: rtcpie',
      'not ok 2 selftests: timers: rtcpie # exit=1',
      'TAP version 13',
      '1..1',
      '# selftests: size: get_size',
      // the board died here
    ].join('\n');
    const accepted = await post(id, { status: 'pass', message: 'BOOTFARM: boot ok', ktap });
    expect(accepted.status).toBe(200);
    const answer = (await accepted.json()) as { result: BootResult };
    // the answer is the one the route declares (and documents), with the summary the boot got
    expect(resultRoute.answers[200].schema.safeParse(answer).error?.issues ?? []).toEqual([]);
    const { boots } = await done;
    expect(boots[0]).toMatchObject({ status: 'pass', tests: { counts: { PASS: 1, FAIL: 1, ERROR: 1 } } });
    expect(answer.result.tests).toEqual(boots[0].tests);
    const file = await readTestResults(store, boots[0].tests!.results!);
    expect(file.source).toBe('api');
    expect(Object.fromEntries(file.results.map((r) => [r.path, r.status]))).toEqual({
      'kselftest.timers.posix_timers': 'PASS',
      'kselftest.timers.rtcpie': 'FAIL',
      'kselftest.size': 'ERROR',
    });
    // recorded with the boot, one row per path, with why each did not pass
    expect(await testRows()).toEqual([
      {
        path: 'kselftest.size',
        plan: 'kselftest',
        status: 'ERROR',
        reason: expect.stringMatching(/truncated|ended|missing/i),
        log_excerpt: expect.stringContaining('# selftests: size: get_size'),
      },
      { path: 'kselftest.timers.posix_timers', plan: 'kselftest', status: 'PASS', reason: null, log_excerpt: null },
      {
        path: 'kselftest.timers.rtcpie',
        plan: 'kselftest',
        status: 'FAIL',
        reason: 'exit=1',
        log_excerpt: expect.stringContaining('not ok 2 selftests: timers: rtcpie # exit=1'),
      },
    ]);
  });

  it('takes structured results; a boot the lab reports failed has its tests MISS', async () => {
    const a = await job();
    expect(
      (
        await post(a.id, {
          status: 'pass',
          tests: [
            { path: 'kselftest.timers.posix_timers', status: 'PASS' },
            { path: 'kselftest.size.get_size', status: 'FAIL', reason: 'exit=1', log: ['# Total: 0'] },
          ],
        })
      ).status,
    ).toBe(200);
    const passed = (await a.done).boots[0];
    expect(passed.tests!.notPassing).toEqual([
      { path: 'kselftest.size.get_size', plan: 'kselftest', status: 'FAIL', reason: 'exit=1' },
    ]);
    expect(await testRows()).toEqual([
      {
        path: 'kselftest.size.get_size',
        plan: 'kselftest',
        status: 'FAIL',
        reason: 'exit=1',
        log_excerpt: '# Total: 0',
      },
      { path: 'kselftest.timers.posix_timers', plan: 'kselftest', status: 'PASS', reason: null, log_excerpt: null },
    ]);
    const b = await job();
    expect(
      (await post(b.id, { status: 'fail', message: 'Kernel panic - not syncing: x', ktap: 'ignored' })).status,
    ).toBe(200);
    const failed = (await b.done).boots[0];
    expect(failed.tests).toMatchObject({ counts: { MISS: 2, PASS: 0 } });
    // the same boot row recorded again: its rows are the MISSes now, none of the earlier results stay
    expect(await testRows()).toEqual(
      ['kselftest.size', 'kselftest.timers'].map((path) => ({
        path,
        plan: 'kselftest',
        status: 'MISS',
        reason: expect.stringContaining('Kernel panic - not syncing: x'),
        log_excerpt: null,
      })),
    );
  });
});
