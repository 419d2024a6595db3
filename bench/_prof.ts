import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';
import { migrate } from '../activities/db/migrate';
import { revisionPage } from '../dashboard/pages/revisions';
import { fill } from './dashboardFill';
async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'prof-')); chmodSync(dir, 0o755);
  const pg = await startPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), logFile: join(dir, 'pg.log') });
  const sql = postgres(pg.url, { max: 10, onnotice: () => {} });
  await migrate(sql);
  await fill(sql);
  const ctx = { temporalUiUrl: 'http://x', temporalNamespace: 'default' };
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 200; i++) { const t = performance.now(); await revisionPage(sql, ctx, 1 + (i % 160)); times.push(performance.now() - t); }
  times.sort((a, b) => a - b);
  const cpu = process.cpuUsage(cpu0);
  console.log('node cpu per page ms', ((cpu.user + cpu.system) / 1000 / 200).toFixed(2));
  console.log('median', times[100], 'p95', times[190]);
  await sql.end(); await pg.stop();
}
main();
