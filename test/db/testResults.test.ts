/**
 * Per-test results in PostgreSQL: recorded with their boot from the boot's
 * results file in the artifact store, one row per path however often the
 * boot is recorded, a bisection's apart from the revision's, and one test's
 * history on one platform read newest first through its index.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { createResultActivities } from '../../activities/pipeline/records';
import { createConfigActivities } from '../../activities/pipeline/configRecords';
import { DirStore } from '../../plumbing/store/dirStore';
import { storeTestResults } from '../../plumbing/store/testResults';
import { parseConfig } from '../../plumbing/loadConfig';
import { missedResults, summarizeTests, type TestResult } from '../../domain/testResults';
import type { BootRecord } from '../../domain/activityContracts';
import type { BootResult, BuildResult } from '../../domain/types';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';

const cfg = parseConfig(`
trees:
  - { name: demo, url: /srv/git/demo.git, branches: [master], buildConfigs: [x86_64-defconfig] }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64 }
labs:
  - { name: local, adapter: qemu, platforms: [qemu-x86_64] }
`);
const config = cfg.buildConfigs[0];
const sha = (n: number) => n.toString(16).padStart(40, '0');
const built: BuildResult = { status: 'pass', warnings: 0, errors: 0, durationMs: 1, artifacts: {}, errorLines: [] };
const suites = [
  { plan: 'kselftest', suite: 'timers', prefix: 'kselftest' },
  { plan: 'kselftest', suite: 'size', prefix: 'kselftest' },
];
const result = (path: string, status: TestResult['status'], extra: Partial<TestResult> = {}): TestResult => ({
  path,
  plan: 'kselftest',
  status,
  log: [],
  subtests: 0,
  ...extra,
});

let db: TestDatabase;
let store: DirStore;
let rec: ReturnType<typeof createResultActivities>;

beforeAll(async () => {
  db = await freshDatabase();
  store = new DirStore(await mkdtemp(join(testDir(), 'test-rows-')));
  rec = createResultActivities({ sql: db.sql, store });
  await createConfigActivities({ sql: db.sql }).syncConfig(cfg);
});
afterAll(async () => {
  await db?.drop();
});

/** Records the build of commit n and a boot on it whose lab stored `results`. */
async function bootWith(n: number, results: TestResult[], extra: Partial<BootRecord> = {}): Promise<BootRecord> {
  const workflowId = extra.workflowId ?? `bb-${n}`;
  const buildId = await rec.recordBuild({
    tree: 'demo',
    sha: sha(n),
    config,
    result: built,
    workflowId,
    ...(extra.bisection ? { bisection: extra.bisection } : {}),
  });
  const tests = await storeTestResults(
    store,
    `boots/${n}/${workflowId}/tests.json`,
    { bootKey: `boots/${n}`, source: 'console', results, problems: [] },
    {},
  );
  const booted: BootResult = {
    status: 'pass',
    platform: 'qemu-x86_64',
    lab: 'local',
    durationMs: 1,
    message: 'ok',
    tests,
  };
  return {
    buildId,
    tree: 'demo',
    sha: sha(n),
    config: config.name,
    arch: 'x86_64',
    run: 0,
    result: booted,
    workflowId,
    fromLab: true,
    ...extra,
  };
}

const rowsOf = (bootId: number) =>
  db.sql`select path, plan, status, xfail, reason, log_excerpt, log_line from test_results where boot_id = ${bootId} order by path`.then(
    (rows) => rows.map((r) => ({ ...r })),
  );

describe('per-test results in PostgreSQL', () => {
  it('records every result of the boot, with the excerpt and line of those that did not pass, once however often the boot is recorded', async () => {
    const boot = await bootWith(1, [
      result('kselftest.timers.posix_timers', 'PASS', { line: 40 }),
      result('kselftest.timers.rtcpie', 'SKIP', { reason: 'no RTC', line: 41 }),
      result('kselftest.timers.nsleep-lat', 'PASS', { xfail: true, log: ['# expected'], line: 42 }),
      result('kselftest.size.get_size', 'FAIL', {
        reason: 'exit=1',
        log: Array.from({ length: 30 }, (_, i) => `# line ${i}`),
        line: 80,
      }),
    ]);
    const ids = await Promise.all([rec.recordBoot(boot), rec.recordBoot(boot), rec.recordBoot(boot)]);
    expect(new Set(ids).size).toBe(1);
    expect(await rowsOf(ids[0])).toEqual([
      {
        path: 'kselftest.size.get_size',
        plan: 'kselftest',
        status: 'FAIL',
        xfail: false,
        reason: 'exit=1',
        // the last 20 lines printed for it
        log_excerpt: Array.from({ length: 20 }, (_, i) => `# line ${i + 10}`).join('\n'),
        log_line: 80,
      },
      {
        path: 'kselftest.timers.nsleep-lat',
        plan: 'kselftest',
        status: 'PASS',
        xfail: true,
        reason: null,
        log_excerpt: null,
        log_line: 42,
      },
      {
        path: 'kselftest.timers.posix_timers',
        plan: 'kselftest',
        status: 'PASS',
        xfail: false,
        reason: null,
        log_excerpt: null,
        log_line: 40,
      },
      {
        path: 'kselftest.timers.rtcpie',
        plan: 'kselftest',
        status: 'SKIP',
        xfail: false,
        reason: 'no RTC',
        log_excerpt: null,
        log_line: 41,
      },
    ]);
  });

  it("records a failed boot's MISSes from its summary alone, replacing what the boot row had", async () => {
    const boot = await bootWith(2, [result('kselftest.timers.posix_timers', 'PASS')]);
    const id = await rec.recordBoot(boot);
    expect(await rowsOf(id)).toHaveLength(1);
    const missed = summarizeTests(missedResults({ suites }, 'not run: the boot ended fail: Kernel panic'), [], {});
    const again = await rec.recordBoot({
      ...boot,
      result: { ...boot.result, status: 'fail', message: 'Kernel panic', tests: missed },
    });
    expect(again).toBe(id);
    expect((await rowsOf(id)).map((r) => `${r.status} ${r.plan} ${r.path}`)).toEqual([
      'MISS kselftest kselftest.size',
      'MISS kselftest kselftest.timers',
    ]);
  });

  it("keeps a bisection's results apart and reads one test's history on a platform newest first", async () => {
    for (let n = 10; n < 14; n++)
      await rec.recordBoot(await bootWith(n, [result('kselftest.timers.posix_timers', n < 12 ? 'PASS' : 'FAIL')]));
    // a bisection boots commit 11 again and sees it fail: the revision's history does not change
    await rec.recordBoot(
      await bootWith(11, [result('kselftest.timers.posix_timers', 'FAIL')], {
        workflowId: 'bisect-step-11',
        bisection: 'bisect:demo',
      }),
    );
    const history = await db.sql`
      select sha, status from test_results
      where path = 'kselftest.timers.posix_timers' and platform = 'qemu-x86_64' and scope = '' and sha >= ${sha(10)}
      order by created_at desc, id desc`;
    expect(history.map((r) => `${Number.parseInt(r.sha as string, 16)}:${r.status}`)).toEqual([
      '13:FAIL',
      '12:FAIL',
      '11:PASS',
      '10:PASS',
    ]);
    const [bisected] =
      await db.sql`select status from test_results where scope <> '' and sha = ${sha(11)} and path = 'kselftest.timers.posix_timers'`;
    expect(bisected.status).toBe('FAIL');
    // the history query is the index's range scan, not a scan of every result
    await db.sql`set enable_seqscan = off`;
    const plan = await db.sql`explain select sha, status from test_results
      where path = 'kselftest.timers.posix_timers' and platform = 'qemu-x86_64' and scope = '' order by created_at desc`;
    await db.sql`set enable_seqscan = on`;
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('test_results_history');
  });

  it('refuses, recording nothing, a boot whose results it cannot read or whose summary hides results', async () => {
    const boot = await bootWith(20, [result('kselftest.size.get_size', 'PASS')]);
    await expect(createResultActivities({ sql: db.sql }).recordBoot(boot)).rejects.toThrow(
      /recording the test results boots\/20\/bb-20\/tests\.json needs the artifact store/,
    );
    const partial = summarizeTests(
      [result('kselftest.size.get_size', 'PASS'), result('kselftest.timers', 'MISS')],
      [],
      {},
    );
    await expect(rec.recordBoot({ ...boot, result: { ...boot.result, tests: partial } })).rejects.toThrow(
      'a test summary without its results file lists 1 of 2 results',
    );
    expect(await db.sql`select 1 from boots where build_id = ${boot.buildId}`).toHaveLength(0);
  });
});
