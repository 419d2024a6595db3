/**
 * The recording activities on real PostgreSQL: every call may come again
 * (an activity retried, a workflow replayed, a revision re-run) and must
 * land on the same row.
 */
import { createResultActivities } from '../../activities/pipeline/records';
import { createConfigActivities } from '../../activities/pipeline/configRecords';
import { parseConfig } from '../../plumbing/loadConfig';
import type { BootResult, BuildResult, RevisionInfo } from '../../domain/types';
import { freshDatabase, type TestDatabase } from '../harness/services';
import { testConfigYaml } from '../support/testConfig';

const cfg = parseConfig(testConfigYaml());
const config = cfg.buildConfigs[0];
const SHA = '0123456789abcdef0123456789abcdef01234567';
const rev: RevisionInfo = {
  tree: 'demo',
  branch: 'master',
  url: '/srv/git/demo.git',
  sha: SHA,
  describe: 'v6.1-rc1-2-g0123456789ab',
  subject: 'net: fix a leak',
  author: 'A. Developer',
  authorEmail: 'dev@example.org',
  committedAt: '2026-11-01T10:00:00Z',
};
const key = { tree: 'demo', branch: 'master', sha: SHA };
const passed: BuildResult = {
  status: 'pass',
  warnings: 3,
  errors: 0,
  durationMs: 4200.4,
  artifacts: {
    kernel: { key: 'builds/demo/0123456789ab/x86_64-defconfig/bzImage', size: 900 },
    log: { key: 'builds/demo/0123456789ab/x86_64-defconfig/build.log', size: 80 },
  },
  errorLines: [],
  builder: 'builder-1',
};
const booted: BootResult = {
  status: 'pass',
  platform: 'qemu-x86_64',
  lab: 'local',
  durationMs: 812,
  message: 'BOOTFARM: boot ok',
  log: { key: 'boots/x.log', size: 5 },
  attempts: 1,
};
const counts = {
  builds: { total: 1, pass: 1, fail: 0, infraError: 0, warnings: 3, errors: 0 },
  boots: { total: 1, pass: 1, fail: 0, infraError: 0, offline: 0, skip: 0 },
};

let db: TestDatabase;
let rec: ReturnType<typeof createResultActivities>;

beforeAll(async () => {
  db = await freshDatabase();
  rec = createResultActivities({ sql: db.sql });
  await createConfigActivities({ sql: db.sql }).syncConfig(cfg);
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`truncate revisions, builds, boots, test_results`;
  await db.sql`update labs set last_result_at = null`;
});

const count = async (table: 'revisions' | 'builds' | 'boots') =>
  (await db.sql`select count(*)::int as n from ${db.sql(table)}`)[0].n as number;

describe('recording results', () => {
  it('records a revision start once however often it is retried, and a re-run keeps its place in the branch history', async () => {
    const id = await rec.recordRevisionStart({ ...rev, workflowId: 'rev:demo:master:0123456789ab' });
    expect(await rec.recordRevisionStart({ ...rev, workflowId: 'rev:demo:master:0123456789ab' })).toBe(id);
    const [before] = await db.sql`select started_at from revisions where id = ${id}`;
    await rec.recordRevisionSummary({ ...key, workflowId: 'rev:demo:master:0123456789ab', result: 'pass', counts });

    // a forced re-run: same row, running again, but still ordered where it was first tested
    expect(await rec.recordRevisionStart({ ...rev, workflowId: 'rev:demo:master:0123456789ab:force-1' })).toBe(id);
    const rows =
      await db.sql`select id, status, result, summary, finished_at, started_at, workflow_id, describe, author_email from revisions`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'running',
      result: null,
      summary: null,
      finished_at: null,
      workflow_id: 'rev:demo:master:0123456789ab:force-1',
      describe: rev.describe,
      author_email: rev.authorEmail,
    });
    expect(rows[0].started_at).toEqual(before.started_at);
    const [tree] = await db.sql`select url from trees where name = 'demo'`;
    expect(tree.url).toBe(rev.url);
  });

  it('records the summary once: a retry changes nothing, not even the finish time', async () => {
    await rec.recordRevisionStart({ ...rev, workflowId: 'w' });
    await rec.recordRevisionSummary({ ...key, workflowId: 'w', result: 'fail', counts });
    const [first] = await db.sql`select status, result, summary, finished_at from revisions`;
    await rec.recordRevisionSummary({ ...key, workflowId: 'w', result: 'fail', counts });
    const [second] = await db.sql`select status, result, summary, finished_at from revisions`;
    expect(first).toMatchObject({ status: 'done', result: 'fail', summary: counts });
    expect(second).toEqual(first);
    await expect(
      rec.recordRevisionSummary({ ...key, sha: 'f'.repeat(40), workflowId: 'w', result: 'pass', counts }),
    ).rejects.toThrow(/never recorded/);
  });

  it('records an unresolvable revision as an error that does not count as tested', async () => {
    await rec.recordRevisionError({ ...key, workflowId: 'w', message: 'no commit' });
    await rec.recordRevisionError({ ...key, workflowId: 'w', message: 'no commit' });
    expect(await db.sql`select status, result, message from revisions`).toEqual([
      { status: 'error', result: 'infra-error', message: 'no commit' },
    ]);
    expect(await rec.revisionKnown(key)).toBe(false);
    await rec.recordRevisionStart({ ...rev, workflowId: 'w2' });
    expect(await rec.revisionKnown(key)).toBe(true);
    expect(await rec.revisionKnown({ ...key, branch: 'next' })).toBe(false);
    expect(await count('revisions')).toBe(1);
  });

  it('records a build once per (tree, sha, config), returning the same id on every retry', async () => {
    const id = await rec.recordBuild({
      tree: 'demo',
      sha: SHA,
      config,
      result: passed,
      workflowId: 'build:demo:0123456789ab:x86_64-defconfig',
    });
    const [first] = await db.sql`select finished_at from builds`;
    expect(
      await rec.recordBuild({
        tree: 'demo',
        sha: SHA,
        config,
        result: passed,
        workflowId: 'build:demo:0123456789ab:x86_64-defconfig',
      }),
    ).toBe(id);
    const rows =
      await db.sql`select id, status, warnings, duration_ms, log_key, artifacts, builder, finished_at from builds`;
    expect(rows).toEqual([
      {
        id: String(id),
        status: 'pass',
        warnings: 3,
        duration_ms: 4200,
        log_key: passed.artifacts.log.key,
        artifacts: passed.artifacts,
        builder: 'builder-1',
        finished_at: first.finished_at,
      },
    ]);
    // another run of the same build (a forced re-run) updates the row
    const failed: BuildResult = { ...passed, status: 'fail', errors: 2, errorLines: ['a.c:1: error: x'] };
    expect(
      await rec.recordBuild({
        tree: 'demo',
        sha: SHA,
        config,
        result: failed,
        workflowId: 'build:demo:0123456789ab:x86_64-defconfig:force-1',
      }),
    ).toBe(id);
    expect(await db.sql`select status, errors, error_lines from builds`).toEqual([
      { status: 'fail', errors: 2, error_lines: ['a.c:1: error: x'] },
    ]);
  });

  it("records a bisection's build and boots of a tested commit in rows of their own, one set per child", async () => {
    /** a build and its boot as one build-boot child records them */
    const child = async (workflowId: string, result: BootResult, bisection?: string) => {
      const owner = { workflowId, ...(bisection ? { bisection } : {}) };
      const buildId = await rec.recordBuild({ tree: 'demo', sha: SHA, config, result: passed, ...owner });
      const bootId = await rec.recordBoot({
        ...{ buildId, tree: 'demo', sha: SHA, config: config.name, arch: 'x86_64', run: 0, result, fromLab: true },
        ...owner,
      });
      return { buildId, bootId };
    };
    const revision = await child('build:demo:x', booted);
    const revisionRows = async () => ({
      builds: await db.sql`select * from builds where scope = ''`,
      boots: await db.sql`select * from boots where scope = ''`,
    });
    const before = await revisionRows();
    const bisection = 'bisect:demo:x:x86_64-defconfig:qemu-x86_64';
    const failedBoot: BootResult = { ...booted, status: 'fail', log: { key: 'boots/bisect.log', size: 9 } };
    for (const id of [`${bisection}:step:0123456789ab`, `${bisection}:verify:1`]) {
      const ids = await child(id, failedBoot, bisection);
      expect(ids.buildId).not.toBe(revision.buildId);
      expect(ids.bootId).not.toBe(revision.bootId);
    }
    expect(await revisionRows()).toEqual(before);
    expect(await db.sql`select scope, bisection, status from boots where bisection is not null order by id`).toEqual([
      { scope: `${bisection}:step:0123456789ab`, bisection, status: 'fail' },
      { scope: `${bisection}:verify:1`, bisection, status: 'fail' },
    ]);
  });

  it("records a lost child's build as infra-error, unless that child recorded it itself", async () => {
    const own = await rec.recordBuild({ tree: 'demo', sha: SHA, config, result: passed, workflowId: 'child-1' });
    expect(
      await rec.recordLostBuild({ tree: 'demo', sha: SHA, config, workflowId: 'child-1', message: 'terminated' }),
    ).toBe(own);
    expect(await db.sql`select status, message from builds`).toEqual([{ status: 'pass', message: null }]);

    // a stale row from an earlier run is replaced
    expect(
      await rec.recordLostBuild({ tree: 'demo', sha: SHA, config, workflowId: 'child-2', message: 'terminated' }),
    ).toBe(own);
    expect(await db.sql`select status, message, artifacts, workflow_id from builds`).toEqual([
      { status: 'infra-error', message: 'terminated', artifacts: {}, workflow_id: 'child-2' },
    ]);

    // and a build nobody recorded gets its row
    await db.sql`truncate builds cascade`;
    const id = await rec.recordLostBuild({
      tree: 'demo',
      sha: SHA,
      config,
      workflowId: 'child-3',
      message: 'timed out',
    });
    expect(
      await rec.recordLostBuild({ tree: 'demo', sha: SHA, config, workflowId: 'child-3', message: 'timed out' }),
    ).toBe(id);
    expect(await db.sql`select status, message, arch, defconfig from builds`).toEqual([
      { status: 'infra-error', message: 'timed out', arch: 'x86_64', defconfig: 'defconfig' },
    ]);
  });

  it('records a boot once per (build, platform, lab, run), even when retries race', async () => {
    const buildId = await rec.recordBuild({ tree: 'demo', sha: SHA, config, result: passed, workflowId: 'b' });
    const boot = {
      buildId,
      tree: 'demo',
      sha: SHA,
      config: config.name,
      arch: 'x86_64',
      run: 0,
      result: booted,
      workflowId: 'b',
      fromLab: true,
    };
    const ids = await Promise.all(Array.from({ length: 5 }, () => rec.recordBoot(boot)));
    expect(new Set(ids).size).toBe(1);
    expect(await count('boots')).toBe(1);
    // a repeated run of the same boot is its own row
    const again = await rec.recordBoot({
      ...boot,
      run: 1,
      result: { ...booted, status: 'fail', message: 'Kernel panic - not syncing' },
    });
    expect(again).not.toBe(ids[0]);
    expect(await db.sql`select run, status, attempts, log_key from boots order by run`).toEqual([
      { run: 0, status: 'pass', attempts: 1, log_key: 'boots/x.log' },
      { run: 1, status: 'fail', attempts: 1, log_key: 'boots/x.log' },
    ]);
  });

  it("marks the lab's last result only when the lab itself answered", async () => {
    const buildId = await rec.recordBuild({ tree: 'demo', sha: SHA, config, result: passed, workflowId: 'b' });
    const boot = { buildId, tree: 'demo', sha: SHA, config: config.name, arch: 'x86_64', run: 0, workflowId: 'b' };
    await rec.recordBoot({
      ...boot,
      result: { ...booted, status: 'offline', message: 'no worker', attempts: 0, log: undefined },
      fromLab: false,
    });
    expect((await db.sql`select last_result_at from labs where name = 'local'`)[0].last_result_at).toBeNull();
    expect(await db.sql`select status, attempts, log_key from boots`).toEqual([
      { status: 'offline', attempts: 0, log_key: null },
    ]);
    await rec.recordBoot({ ...boot, result: booted, fromLab: true });
    expect((await db.sql`select last_result_at from labs where name = 'local'`)[0].last_result_at).toBeInstanceOf(Date);
    expect(await db.sql`select status from boots`).toEqual([{ status: 'pass' }]);
  });
});
