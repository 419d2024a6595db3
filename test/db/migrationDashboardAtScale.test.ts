/**
 * Migration 008 (the dashboard at a million boots) on a database that already
 * holds results: the per-day boot counters start equal to a count of the
 * boots and stay equal through whatever the pipeline and an operator do to
 * boots (inserts, upserts, status changes, deletes, truncation, concurrent
 * recordings); the platform and daily-chart figures read from them are the
 * ones a count gives; a commit-prefix filter returns exactly the rows whose
 * sha starts with it, read from the new index even in a generic plan.
 */
import type postgres from 'postgres';
import { listMigrations, migrate } from '../../plumbing/db/migrate';
import { freshDatabase, type TestDatabase } from '../harness/services';
import { listBoots } from '../../dashboard/data/boots';
import { listBuilds } from '../../dashboard/data/builds';
import { branchOverview, listRevisions } from '../../dashboard/data/revisions';
import { platformCoverage } from '../../dashboard/data/platforms';
import { dailyCounts } from '../../dashboard/data/stats';
import { regressionsOfBisection } from '../../dashboard/data/bisections';
import { prng } from '../bisect/support/syntheticHistory';

const SEED = Number(process.env.BF_TEST_SEED ?? 1707);
// a failing run replays with BF_TEST_SEED
const rnd = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

const PLATFORMS = ['qemu-x86_64', 'rpi4'];
const STATUSES = ['queued', 'running', 'pass', 'fail', 'infra-error'];
// Shas that share prefixes and straddle them: 'abcf…' (the last hex digit before the range's end 'abcg'),
// 'abd0…' (just past it), 'abc' followed by every kind of digit.
const SHAS = [
  `abc0${'0'.repeat(36)}`,
  `abc9${'1'.repeat(36)}`,
  `abca${'2'.repeat(36)}`,
  `abcf${'f'.repeat(36)}`,
  `abd0${'0'.repeat(36)}`,
  `abb${'f'.repeat(37)}`,
  `0123${'4'.repeat(36)}`,
  `ffff${'f'.repeat(36)}`,
];

let db: TestDatabase;
let buildIds: Map<string, number>;

/** one build per sha, its revision, and `n` boots spread over 40 days, platforms and statuses */
async function seed(sql: postgres.Sql, n: number) {
  buildIds = new Map();
  for (const sha of SHAS) {
    await sql`insert into revisions (tree, branch, sha, status) values ('demo', 'master', ${sha}, 'done')
      on conflict do nothing`;
    const [{ id }] = await sql<{ id: string }[]>`
      insert into builds (tree, sha, config, arch, defconfig, status)
      values ('demo', ${sha}, 'x86_64-defconfig', 'x86_64', 'defconfig', 'pass') returning id`;
    buildIds.set(sha, Number(id));
  }
  for (let i = 0; i < n; i++) await insertBoot(sql, i);
}

async function insertBoot(sql: postgres.Sql, run: number) {
  const sha = pick(SHAS);
  // around midnight UTC too: a boot of 23:59 and one of 00:00 count on different days
  const ageMinutes = Math.floor(rnd() * 40 * 24 * 60);
  await sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, created_at)
    values (${buildIds.get(sha)!}, 'demo', ${sha}, 'x86_64-defconfig', 'x86_64', ${pick(PLATFORMS)}, 'lab', ${run},
            ${pick(STATUSES)}, date_trunc('day', now()) - ${ageMinutes} * interval '1 minute')`;
}

/** The counters, and what counting the boots gives, as comparable rows (zero counters left out). */
async function countersAndCount(sql: postgres.Sql) {
  const counters = await sql`select day::text, platform, status, n::int from boot_daily_counts where n <> 0
    order by 1, 2, 3`;
  const counted =
    await sql`select ((created_at at time zone 'UTC')::date)::text as day, platform, status, count(*)::int as n
    from boots group by 1, 2, 3 order by 1, 2, 3`;
  return { counters: [...counters], counted: [...counted] };
}

beforeAll(async () => {
  db = await freshDatabase({ upTo: 7 });
  await seed(db.sql, 300);
  // 008 on its own, as a deployment upgrading from 007 applies it
  expect(
    await migrate(
      db.sql,
      listMigrations().filter((m) => m.version <= 8),
    ),
  ).toEqual(['008_dashboard_at_scale']);
});
afterAll(async () => {
  await db?.drop();
});

it('starts the per-day boot counters at what counting the recorded boots gives', async () => {
  const { counters, counted } = await countersAndCount(db.sql);
  expect(counted.length).toBeGreaterThan(40);
  expect(counters).toEqual(counted);
});

it('keeps the counters equal to a count through inserts, upserts, status changes, deletes and truncation', async () => {
  const { sql } = db;
  const check = async (after: string) => {
    const { counters, counted } = await countersAndCount(sql);
    expect({ after, counters }).toEqual({ after, counters: counted });
  };
  for (let i = 0; i < 40; i++) await insertBoot(sql, 1000 + i);
  await check('single inserts');
  // the pipeline's upsert of a boot it records again, moving it from queued to its result
  await sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status)
    select build_id, tree, sha, config, arch, platform, lab, run, 'pass' from boots where status = 'queued'
    on conflict (build_id, platform, lab, run) do update set status = excluded.status`;
  await check('upserts');
  await sql`update boots set status = 'running' where id % 3 = 0`;
  await check('a bulk status change');
  await sql`update boots set attempts = attempts + 1`;
  await check('an update that changes no counted column');
  await sql`update boots set platform = 'rpi4', created_at = created_at - interval '1 day' where id % 5 = 0`;
  await check('a platform and day change');
  await sql`delete from boots where status = 'fail'`;
  await check('a delete');
  await sql`truncate boots`;
  await check('truncate');
  expect((await countersAndCount(sql)).counters).toEqual([]);
});

it('keeps them exact when recordings of the same platform and day run at once', async () => {
  const { sql } = db;
  await sql`truncate builds cascade`;
  await seed(sql, 0);
  const build = buildIds.get(SHAS[0])!;
  // 8 connections each record 25 boots and move them queued → running → pass, as lab workers do side by side
  await Promise.all(
    Array.from({ length: 8 }, (_, w) =>
      sql.begin(async (tx) => {
        for (let i = 0; i < 25; i++) {
          const run = w * 100 + i;
          await tx`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status)
            values (${build}, 'demo', ${SHAS[0]}, 'x86_64-defconfig', 'x86_64', 'qemu-x86_64', 'lab', ${run}, 'queued')`;
          await tx`update boots set status = 'running' where build_id = ${build} and run = ${run}`;
          await tx`update boots set status = ${i % 4 === 0 ? 'fail' : 'pass'} where build_id = ${build} and run = ${run}`;
        }
      }),
    ),
  );
  const { counters, counted } = await countersAndCount(sql);
  expect(counters).toEqual(counted);
  expect(counted.map((c) => [c.status, c.n])).toEqual([
    ['fail', 8 * 7],
    ['pass', 8 * 18],
  ]);
});

it('gives the platform page and the daily chart the figures a count of the boots gives', async () => {
  const { sql } = db;
  await sql`truncate builds cascade`;
  await sql`insert into platforms (name, arch, soc, boot_method) values ('qemu-x86_64', 'x86_64', 'qemu', 'qemu'),
    ('rpi4', 'arm64', 'bcm2711', 'uboot') on conflict do nothing`;
  await seed(sql, 300);
  const families = await platformCoverage(sql, 30);
  for (const platform of PLATFORMS) {
    const shown = families.flatMap((f) => f.platforms).find((p) => p.name === platform)!;
    const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from boots
      where platform = ${platform} and created_at >= date_trunc('day', now(), 'UTC') - interval '29 days'
      group by status`;
    expect(shown.boots).toEqual(Object.fromEntries(rows.map((r) => [r.status, r.n])));
    const [{ last }] = await sql<{ last: Date | null }[]>`select max(created_at) as last from boots
      where platform = ${platform} and created_at > now() - interval '30 days'`;
    expect(shown.lastBootAt).toBe(last ? last.toISOString() : null);
  }
  const days = await dailyCounts(sql, 7);
  const rows = await sql<{ day: string; status: string; n: number }[]>`
    select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, status, count(*)::int as n from boots
    where created_at >= date_trunc('day', now(), 'UTC') - interval '6 days' group by 1, 2`;
  expect(rows.length).toBeGreaterThan(5);
  for (const d of days)
    expect({ day: d.day, boots: d.boots }).toEqual({
      day: d.day,
      boots: Object.fromEntries(rows.filter((r) => r.day === d.day).map((r) => [r.status, r.n])),
    });
});

it('answers a commit prefix with exactly the rows whose sha starts with it', async () => {
  const { sql } = db;
  const boots = await sql<{ id: string; sha: string }[]>`select id, sha from boots`;
  for (const prefix of ['abc', 'abcf', 'abcf' + 'f'.repeat(36), 'abd0', 'abb', 'ffff', '0123', 'abce', 'fff0']) {
    const want = boots.filter((b) => b.sha.startsWith(prefix)).map((b) => Number(b.id));
    const got: number[] = [];
    for (let cursor: string | undefined, page; (page = await listBoots(sql, { sha: prefix, limit: 50, cursor })); ) {
      got.push(...page.items.map((b) => b.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect({ prefix, ids: got.sort((a, b) => a - b) }).toEqual({ prefix, ids: want.sort((a, b) => a - b) });
    const builds = (await listBuilds(sql, { sha: prefix, limit: 100 })).items.map((b) => b.sha).sort();
    const revisions = (await listRevisions(sql, { sha: prefix, limit: 100 })).items.map((r) => r.sha).sort();
    expect({ prefix, builds, revisions }).toEqual({
      prefix,
      builds: SHAS.filter((s) => s.startsWith(prefix)).sort(),
      revisions: SHAS.filter((s) => s.startsWith(prefix)).sort(),
    });
  }
});

it('reads a commit prefix from the sha index in a generic plan, as a prepared statement runs after its fifth use', async () => {
  const { sql } = db;
  await sql.begin(async (tx) => {
    await tx`set local plan_cache_mode = force_generic_plan`;
    await tx`set local enable_seqscan = off`;
    for (const table of ['boots', 'builds', 'revisions']) {
      await tx.unsafe(
        `prepare by_prefix_${table} (text, text) as select id from ${table} where sha ~>=~ $1 and sha ~<~ $2`,
      );
      const plan = (await tx.unsafe(`explain (format json) execute by_prefix_${table} ('abc', 'abcg')`))[0][
        'QUERY PLAN'
      ];
      expect(JSON.stringify(plan)).toContain(`"Index Name":"${table}_sha_prefix"`);
    }
  });
});

it('lists the regressions a bisection bisected, and only those', async () => {
  const { sql } = db;
  const [{ id }] = await sql<
    { id: string }[]
  >`insert into bisections (workflow_id, tree, good_sha, bad_sha, config, platform)
    values ('bisect:demo:x', 'demo', ${SHAS[0]}, ${SHAS[1]}, 'x86_64-defconfig', 'rpi4') returning id`;
  await sql`insert into regressions (tree, branch, kind, config, platform, state, first_bad_sha, bisection_id)
    values ('demo', 'master', 'boot', 'x86_64-defconfig', 'rpi4', 'new', ${SHAS[1]}, ${id}),
           ('demo', 'master', 'boot', 'x86_64-defconfig', 'qemu-x86_64', 'new', ${SHAS[1]}, null)`;
  const listed = await regressionsOfBisection(sql, Number(id));
  expect(listed.map((r) => [r.platform, r.bisectionId])).toEqual([['rpi4', Number(id)]]);
});

it('shows the newest revision of every tree and branch, as reading every revision would', async () => {
  const { sql } = db;
  await sql`insert into trees (name, url) values ('alpha', 'https://git.example.org/alpha.git'),
    ('beta', 'https://git.example.org/beta.git'), ('empty', 'https://git.example.org/empty.git') on conflict do nothing`;
  // branches whose names sort around each other, revisions started in shuffled order, a tie on started_at
  for (let i = 0; i < 60; i++)
    await sql`insert into revisions (tree, branch, sha, status, started_at)
      values (${pick(['alpha', 'beta'])}, ${pick(['master', 'next', 'next-2', 'a'])}, ${`${i.toString(16).padStart(4, '0')}${'e'.repeat(36)}`},
              'done', now() - ${Math.floor(rnd() * 10)} * interval '1 hour')`;
  const want = await sql<{ tree: string; branch: string; sha: string }[]>`
    select distinct on (tree, branch) tree, branch, sha from revisions order by tree, branch, started_at desc, id desc`;
  const shown = await branchOverview(sql);
  expect(shown.filter((b) => b.latest).map((b) => [b.tree, b.branch, b.latest!.sha])).toEqual(
    want.map((w) => [w.tree, w.branch, w.sha]),
  );
  expect(shown.find((b) => b.tree === 'empty')).toMatchObject({ branch: null, latest: null });
});
