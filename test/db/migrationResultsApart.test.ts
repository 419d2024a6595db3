/**
 * Migration 005 on a database that already holds results, as a deployment
 * upgraded in place has them: builds and boots that bisections wrote
 * (before they had rows of their own), revisions, and regressions open and
 * fixed. Nothing is lost, and what can be told apart is.
 */
import { listMigrations, migrate } from '../../plumbing/db/migrate';
import { freshDatabase, type TestDatabase } from '../harness/services';

const BISECT = 'bisect:demo:bbbbbbbbbbbb:x86_64-defconfig:qemu-x86_64';
const REVISION_SHA = 'a'.repeat(40);
const STEP_SHA = 'c'.repeat(40);

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase({ upTo: 4 });
  const { sql } = db;
  await sql`insert into revisions (tree, branch, sha, status) values ('demo', 'master', ${REVISION_SHA}, 'done')`;
  await sql`insert into bisections (workflow_id, tree, good_sha, bad_sha, config, platform)
            values (${BISECT}, 'demo', ${REVISION_SHA}, ${'b'.repeat(40)}, 'x86_64-defconfig', 'qemu-x86_64')`;
  // the revision's build, last written by the bisection's endpoint step (the old way), and a commit only the bisection tested
  for (const [sha, workflowId] of [
    [REVISION_SHA, `${BISECT}:step:aaaaaaaaaaaa`],
    [STEP_SHA, `${BISECT}:step:cccccccccccc`],
  ]) {
    const [{ id }] = await sql`
      insert into builds (tree, sha, config, arch, defconfig, status, workflow_id)
      values ('demo', ${sha}, 'x86_64-defconfig', 'x86_64', 'defconfig', 'pass', ${workflowId}) returning id`;
    await sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, status, workflow_id)
              values (${id}, 'demo', ${sha}, 'x86_64-defconfig', 'x86_64', 'qemu-x86_64', 'local', 'pass', ${workflowId})`;
  }
  await sql`insert into regressions (tree, branch, kind, config, platform, state, first_bad_sha, fixed_sha)
            values ('demo', 'master', 'boot', 'x86_64-defconfig', 'qemu-x86_64', 'fixed', ${'d'.repeat(40)}, ${'e'.repeat(40)}),
                   ('demo', 'master', 'build', 'x86_64-defconfig', '', 'new', ${'f'.repeat(40)}, null)`;
  expect(
    await migrate(
      sql,
      listMigrations().filter((m) => m.version <= 5),
    ),
  ).toEqual(['005_results_apart_and_flakes']);
});
afterAll(async () => {
  await db?.drop();
});

it("moves the rows of commits only a bisection tested into the bisection's scope, and leaves a revision's rows its own", async () => {
  const builds = await db.sql`select sha, scope, bisection from builds order by sha`;
  expect(builds).toEqual([
    { sha: REVISION_SHA, scope: '', bisection: null },
    { sha: STEP_SHA, scope: `${BISECT}:step:cccccccccccc`, bisection: BISECT },
  ]);
  const boots = await db.sql`select sha, scope, bisection from boots order by sha`;
  expect(boots).toEqual(builds);
});

it('lets a bisection record a build of a tested commit beside the revision’s', async () => {
  await db.sql`insert into builds (tree, sha, config, arch, defconfig, status, scope, bisection)
               values ('demo', ${REVISION_SHA}, 'x86_64-defconfig', 'x86_64', 'defconfig', 'fail', 'x', ${BISECT})`;
  const rows = await db.sql`select scope, status from builds where sha = ${REVISION_SHA} order by scope`;
  expect(rows).toEqual([
    { scope: '', status: 'pass' },
    { scope: 'x', status: 'fail' },
  ]);
  await expect(
    db.sql`insert into builds (tree, sha, config, arch, defconfig, status)
           values ('demo', ${REVISION_SHA}, 'x86_64-defconfig', 'x86_64', 'defconfig', 'pass')`,
  ).rejects.toThrow(/builds_tree_sha_config_scope_key/);
});

it('gives every existing regression its history so far', async () => {
  const rows =
    await db.sql`select r.state, h.event, h.sha from regression_history h join regressions r on r.id = h.regression_id
                            order by r.id, h.id`;
  expect(rows).toEqual([
    { state: 'fixed', event: 'failed', sha: 'd'.repeat(40) },
    { state: 'fixed', event: 'fixed', sha: 'e'.repeat(40) },
    { state: 'new', event: 'failed', sha: 'f'.repeat(40) },
  ]);
  const [r] = await db.sql`select flaps, reopened_sha, only_in_labs from regressions limit 1`;
  expect(r).toEqual({ flaps: 0, reopened_sha: null, only_in_labs: [] });
});
