/**
 * The data set of bench/dashboard: a results database at the seed's scale
 * after a couple of years, filled with generate_series in SQL (no round trip
 * per row). Deterministic: every value derives from its row number, so two
 * runs hold the same rows.
 *
 * - 40 tree/branch pairs, 100,000 revisions one every 12 minutes (the seed's
 *   rate: 40 trees × 3 changes a day), about 830 days.
 * - The newest RESULT_REVISIONS revisions keep their results (older ones keep
 *   their row only, as retention leaves them): 120 build configs each (half
 *   x86_64, half arm64), 4 boots per passing build (2 platforms of its arch
 *   in each of 2 labs), one confirmation boot per failed boot.
 * - Bisections of the recent regressions with rows of their own (scope = the
 *   step's workflow id) top the boots up to exactly TOTAL_BOOTS.
 * - 20,000 regressions (the newest 1,500 active) with their history, 3,000
 *   bisections, 2 reports per revision, a flakiness row per series.
 * - The newest 3 revisions are still running: their boots are queued or
 *   running, as the lab pages count them.
 */
import type postgres from 'postgres';

export const TOTAL_BOOTS = 1_000_000;
export const TOTAL_REVISIONS = 100_000;
export const TREES = 40;
export const CONFIGS = 120;
/** revisions whose builds and boots are kept; chosen so that the revisions' own boots stay just under TOTAL_BOOTS */
export const RESULT_REVISIONS = 2_050;
export const REGRESSIONS = 20_000;
export const ACTIVE_REGRESSIONS = 1_500;
export const BISECTIONS = 3_000;
export const RUNNING_REVISIONS = 3;

export const ARCHS = ['x86_64', 'arm64'] as const;
export const PLATFORMS: Record<(typeof ARCHS)[number], string[]> = {
  x86_64: ['qemu-x86_64', 'minnowboard-turbot'],
  arm64: ['qemu-arm64', 'rk3399-rock-pi-4'],
};
export const LABS = ['lab-a', 'lab-b'];
export const treeName = (i: number) => `tree${String(i).padStart(2, '0')}`;

/** Which step of the fill is running, for the bench's progress lines. */
export type FillProgress = (step: string) => void;

/** The tables the fill writes: loaded without their indexes and constraints, which are made again at the end. */
const FILLED = ['revisions', 'builds', 'boots', 'regressions', 'regression_history', 'bisections', 'reports'];

export async function fill(sql: postgres.Sql, progress: FillProgress = () => {}): Promise<void> {
  const step = async (what: string, run: () => Promise<unknown>) => {
    progress(what);
    await run();
  };
  await sql`set maintenance_work_mem = '256MB'`;
  const restore = await dropIndexesAndConstraints(sql, FILLED);
  await step('trees, platforms, labs', async () => {
    await sql`insert into trees (name, url)
      select 'tree' || lpad(t::text, 2, '0'), 'https://git.example.org/tree' || lpad(t::text, 2, '0') || '.git'
      from generate_series(0, ${TREES - 1}) t`;
    await sql`insert into platforms (name, arch, soc, boot_method)
      select p, a, case when p like 'qemu-%' then 'qemu' else p end, case when p like 'qemu-%' then 'qemu' else 'lava' end
      from (values ('qemu-x86_64', 'x86_64'), ('minnowboard-turbot', 'x86_64'), ('qemu-arm64', 'arm64'), ('rk3399-rock-pi-4', 'arm64')) v(p, a)`;
    await sql`insert into labs (name, adapter, platforms, health, last_poll_at, last_result_at)
      select l, 'lava', (select jsonb_agg(jsonb_build_object('name', name, 'capacity', 4)) from platforms), 'online', now(), now()
      from unnest(${LABS}::text[]) l`;
  });
  // Revision g (1 … TOTAL_REVISIONS) of tree g % TREES, started (TOTAL_REVISIONS - g) × 12 minutes ago.
  await step(
    `${TOTAL_REVISIONS.toLocaleString('en')} revisions`,
    () =>
      sql`insert into revisions (tree, branch, sha, describe, subject, author, author_email, committed_at, status, result,
                               summary, workflow_id, started_at, finished_at)
    select 'tree' || lpad((g % ${TREES})::text, 2, '0'), 'master', s.sha,
      'v6.' || (g / 9000) || '-rc' || (g / 1000 % 8 + 1) || '-' || (g % 1000) || '-g' || left(s.sha, 12),
      'subsystem: change number ' || g, 'Dev Eloper', 'dev@example.org', t.at - interval '1 hour',
      case when g > ${TOTAL_REVISIONS - RUNNING_REVISIONS} then 'running' else 'done' end,
      case when g > ${TOTAL_REVISIONS - RUNNING_REVISIONS} then null when g % 7 = 0 then 'fail' else 'pass' end,
      case when g > ${TOTAL_REVISIONS - RUNNING_REVISIONS} then null else '{"builds": {"total": 120}}'::jsonb end,
      'rev:tree' || lpad((g % ${TREES})::text, 2, '0') || ':master:' || left(s.sha, 12), t.at,
      case when g > ${TOTAL_REVISIONS - RUNNING_REVISIONS} then null else t.at + interval '40 minutes' end
    from generate_series(1, ${TOTAL_REVISIONS}) g,
      lateral (select md5('rev' || g) || left(md5('sha' || g), 8) as sha) s,
      lateral (select now() - (${TOTAL_REVISIONS} - g) * interval '12 minutes' as at) t`,
  );
  await step(
    `builds of the newest ${RESULT_REVISIONS.toLocaleString('en')} revisions`,
    () =>
      sql`insert into builds (tree, sha, config, arch, defconfig, toolchain, status, warnings, errors, duration_ms, log_key,
                            artifacts, workflow_id, created_at, finished_at)
    select r.tree, r.sha, c.config, c.arch, 'cfg' || lpad((c.n / 2)::text, 3, '0'), 'gcc-12',
      case when (r.id * 131 + c.n) % 40 = 0 then 'fail' when (r.id * 7 + c.n) % 97 = 0 then 'infra-error' else 'pass' end,
      (r.id + c.n) % 5, case when (r.id * 131 + c.n) % 40 = 0 then 1 else 0 end, 60000 + c.n * 100,
      'builds/' || r.tree || '/' || r.sha || '/' || c.config || '/build.log',
      jsonb_build_object('kernel', jsonb_build_object('key', 'builds/' || r.tree || '/' || r.sha || '/' || c.config || '/Image')),
      'build:' || r.tree || ':' || left(r.sha, 12) || ':' || c.config,
      r.started_at + c.n * interval '2 seconds', r.started_at + c.n * interval '2 seconds' + interval '6 minutes'
    from revisions r,
      lateral (select n, a as arch, a || '-cfg' || lpad((n / 2)::text, 3, '0') as config
               from generate_series(0, ${CONFIGS - 1}) n, lateral (select (array['x86_64', 'arm64'])[n % 2 + 1] as a) x) c
    where r.id > ${TOTAL_REVISIONS - RESULT_REVISIONS}`,
  );
  await step(
    'boots of the passing builds',
    () =>
      sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, duration_ms, log_key, message,
                           workflow_id, created_at, finished_at)
    select b.id, b.tree, b.sha, b.config, b.arch, t.platform, t.lab, 0,
      case when (b.id * 13 + t.k) % 25 = 0 then 'fail' when (b.id + t.k) % 97 = 0 then 'infra-error'
           when (b.id + t.k) % 199 = 0 then 'offline' else 'pass' end,
      30000 + t.k * 1000, 'boots/' || b.workflow_id || ':' || t.platform || ':' || t.lab || '/console.log',
      'login prompt reached', b.workflow_id,
      b.created_at + interval '7 minutes' + t.k * interval '1 second', b.created_at + interval '8 minutes'
    from builds b,
      lateral (select k, (${sql.array(PLATFORMS.x86_64.concat(PLATFORMS.arm64))}::text[])[(case when b.arch = 'x86_64' then 0 else 2 end) + k % 2 + 1] as platform,
                      (${sql.array(LABS)}::text[])[k / 2 + 1] as lab
               from generate_series(0, 3) k) t
    where b.status = 'pass'`,
  );
  await step(
    'confirmation boots of the failed ones',
    () =>
      sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, duration_ms, log_key, message,
                           workflow_id, created_at, finished_at)
    select build_id, tree, sha, config, arch, platform, lab, 1, case when id % 5 = 0 then 'pass' else 'fail' end, duration_ms,
      log_key || '.1', 'confirmation', workflow_id, created_at + interval '10 minutes', finished_at + interval '10 minutes'
    from boots where status = 'fail' and run = 0`,
  );
  await step(`${REGRESSIONS.toLocaleString('en')} regressions and their history`, async () => {
    // Regression g opened at revision g × 5 (every tree, all along the history); the newest ACTIVE_REGRESSIONS are open.
    await sql`insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at,
                                       last_bad_sha, fixed_sha, created_at, updated_at)
      select bad.tree, bad.branch, case when g % 4 = 0 then 'build' else 'boot' end, c.config,
        case when g % 4 = 0 then '' else (${sql.array(PLATFORMS.x86_64.concat(PLATFORMS.arm64))}::text[])[(case when c.arch = 'x86_64' then 0 else 2 end) + g % 2 + 1] end,
        case when g > ${REGRESSIONS - ACTIVE_REGRESSIONS} then (case when g % 3 = 0 then 'new' else 'still-failing' end) else 'fixed' end,
        good.sha, bad.sha, bad.started_at, bad.sha,
        case when g <= ${REGRESSIONS - ACTIVE_REGRESSIONS} then fix.sha end,
        coalesce(bad.finished_at, bad.started_at), coalesce(fix.finished_at, bad.finished_at, bad.started_at)
      from generate_series(1, ${REGRESSIONS}) g
        join revisions bad on bad.id = g * ${Math.floor(TOTAL_REVISIONS / REGRESSIONS)}
        join revisions good on good.id = bad.id - ${TREES}
        left join revisions fix on fix.id = bad.id + ${TREES} * (1 + g % 5)
        cross join lateral (select a as arch, a || '-cfg' || lpad((g % 60)::text, 3, '0') as config
                            from (select (array['x86_64', 'arm64'])[g % 2 + 1] as a) x) c`;
    await sql`insert into regression_history (regression_id, sha, event, at)
      select id, first_bad_sha, 'failed', first_bad_at from regressions
      union all select id, fixed_sha, 'fixed', updated_at from regressions where state = 'fixed'`;
  });
  await step(`${BISECTIONS.toLocaleString('en')} bisections`, async () => {
    // The newest BISECTIONS boot regressions were bisected.
    await sql`insert into bisections (workflow_id, tree, branch, good_sha, bad_sha, config, platform, lab, status, culprit_sha,
                                      steps, verdict, bisect_log, created_at, finished_at)
      select 'bisect:' || g.tree || ':' || left(g.first_bad_sha, 12) || ':' || g.config || ':' || g.platform,
        g.tree, g.branch, g.last_good_sha, g.first_bad_sha, g.config, g.platform, 'lab-a',
        case when g.state = 'fixed' or g.id % 5 <> 0 then 'found' else 'running' end, g.first_bad_sha,
        (select jsonb_agg(jsonb_build_object('sha', md5(g.id || ':' || s), 'verdict', case when s % 2 = 0 then 'good' else 'bad' end, 'round', s))
           from generate_series(1, 12) s),
        jsonb_build_object('status', 'found', 'summary', 'culprit'), 'git bisect start', g.created_at, g.created_at + interval '2 hours'
      from (select * from regressions where kind = 'boot' order by id desc limit ${BISECTIONS}) g`;
    await sql`update regressions r set bisection_id = b.id from bisections b
      where b.tree = r.tree and b.bad_sha = r.first_bad_sha and b.config = r.config and b.platform = r.platform`;
  });
  await step('bisection steps up to the total of boots', async () => {
    // Each recent bisection built 12 commits (rows of its own, scope = the step's workflow id) and booted each
    // twice on its board; as many of the newest bisections as it takes to reach TOTAL_BOOTS exactly.
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from boots`;
    const missing = TOTAL_BOOTS - n;
    if (missing < 0)
      throw new Error(`the revisions alone have ${n} boots, more than ${TOTAL_BOOTS}: lower RESULT_REVISIONS`);
    await sql`insert into builds (tree, sha, config, scope, bisection, arch, defconfig, toolchain, status, duration_ms,
                                  artifacts, workflow_id, created_at, finished_at)
      select bi.tree, md5(bi.id || ':' || s) || left(md5('s' || s), 8), bi.config, bi.workflow_id || ':step:' || s, bi.workflow_id,
        split_part(bi.config, '-', 1), 'cfg', 'gcc-12', 'pass', 120000, '{}'::jsonb, bi.workflow_id || ':step:' || s,
        bi.created_at + s * interval '8 minutes', bi.created_at + s * interval '8 minutes' + interval '5 minutes'
      from (select * from bisections order by id desc limit ${Math.ceil(missing / 24)}) bi, generate_series(1, 12) s`;
    await sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, scope, bisection, status, duration_ms,
                                 message, workflow_id, created_at, finished_at)
      select b.id, b.tree, b.sha, b.config, b.arch, bi.platform, bi.lab, k, b.scope, b.bisection,
        case when b.id % 2 = 0 then 'pass' else 'fail' end, 30000, 'bisection step', b.workflow_id,
        b.finished_at + k * interval '1 minute', b.finished_at + k * interval '1 minute' + interval '40 seconds'
      from builds b join bisections bi on bi.workflow_id = b.bisection, generate_series(0, 1) k
      where b.scope <> ''
      order by b.id desc, k limit ${missing}`;
  });
  await step('reports, flakiness, running revisions', async () => {
    await sql`insert into reports (message_id, kind, tree, branch, sha, subject, status, created_at, sent_at, attempts)
      select '<' || r.workflow_id || '.' || k || '@bootfarm>', k, r.tree, r.branch, r.sha, r.tree || ' ' || k || ' report',
        'sent', r.finished_at, r.finished_at, 1
      from revisions r, unnest(array['build', 'boot']) k where r.finished_at is not null`;
    await sql`insert into boot_flakiness (config, platform, lab, kernels, boots, flakes, flake_rate, series)
      select config, platform, lab, 20, count(*), count(*) filter (where status = 'fail'),
        count(*) filter (where status = 'fail')::float / count(*), '[]'::jsonb
      from boots where scope = '' and build_id > (select max(id) - 5000 from builds) group by config, platform, lab`;
    // The newest revisions are still running: builds of their last configs going on, boots waiting for boards.
    await sql`update builds set status = 'running', finished_at = null
      where sha in (select sha from revisions where status = 'running') and config >= 'arm64-cfg040'`;
    await sql`update boots set status = case when id % 3 = 0 then 'running' else 'queued' end, finished_at = null
      where sha in (select sha from revisions where status = 'running') and config >= 'x86_64-cfg040' and scope = ''`;
    await fillLabPlatforms(sql);
    await fillTestResults(sql);
  });
  await step('indexes and constraints', () => restore());
  progress('analyze');
  await sql`analyze`;
}

/**
 * Bulk loading as PostgreSQL's manual advises (Populating a Database): a
 * million rows go in several times faster without indexes, uniqueness and
 * foreign key checks, and the indexes are then built in one sort each. The
 * schema comes back exactly as the migrations made it (the same definitions,
 * read from the catalog). Returns the function that restores it.
 */
async function dropIndexesAndConstraints(sql: postgres.Sql, tables: string[]): Promise<() => Promise<void>> {
  const constraints = await sql<{ table: string; name: string; def: string; type: string }[]>`
    select c.conrelid::regclass::text as table, c.conname as name, pg_get_constraintdef(c.oid) as def, c.contype as type
    from pg_constraint c where c.conrelid::regclass::text = any(${tables}) and c.contype in ('p', 'u', 'f')`;
  const indexes = await sql<{ name: string; def: string }[]>`
    select indexname as name, indexdef as def from pg_indexes
    where schemaname = 'public' and tablename = any(${tables})
      and indexname not in (select conname from pg_constraint where contype in ('p', 'u'))`;
  // Foreign keys first (they depend on the keys they point to), then the keys.
  const order = { f: 0, u: 1, p: 2 } as Record<string, number>;
  for (const c of [...constraints].sort((a, b) => order[a.type] - order[b.type]))
    await sql.unsafe(`alter table ${c.table} drop constraint ${c.name}`);
  for (const i of indexes) await sql.unsafe(`drop index ${i.name}`);
  return async () => {
    for (const c of [...constraints].sort((a, b) => order[b.type] - order[a.type]))
      await sql.unsafe(`alter table ${c.table} add constraint ${c.name} ${c.def}`);
    for (const i of indexes) await sql.unsafe(i.def);
  };
}

/** Health per (lab, platform), once the schema has it (per-platform task queues). */
async function fillLabPlatforms(sql: postgres.Sql): Promise<void> {
  const [{ has }] = await sql<{ has: boolean }[]>`select to_regclass('lab_platforms') is not null as has`;
  if (!has) return;
  await sql`insert into lab_platforms (lab, platform, health, last_seen_at, checked_at)
    select l, p.name, 'online', now(), now() from unnest(${LABS}::text[]) l, platforms p`;
}

/**
 * Per-test results (a boot's test plan: suites and cases) are not in this
 * schema yet. When they are, fill them here — about 50 cases per boot of the
 * newest revisions is the seed's kselftest scale — and bench/dashboard.ts
 * measures the per-test history page (its TEST_HISTORY_ROUTES).
 */
async function fillTestResults(sql: postgres.Sql): Promise<void> {
  const [{ has }] = await sql<{ has: boolean }[]>`select to_regclass('test_results') is not null as has`;
  if (has) throw new Error('a test_results table exists: teach bench/dashboardFill.ts to fill it');
}
