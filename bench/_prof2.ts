import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';
import { migrate } from '../activities/db/migrate';
import { fill } from './dashboardFill';
async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'prof-')); chmodSync(dir, 0o755);
  const pg = await startPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), logFile: join(dir, 'pg.log') });
  const sql = postgres(pg.url, { max: 10, onnotice: () => {} });
  await migrate(sql);
  await fill(sql);
  const [r] = await sql`select * from revisions where id = 80`;
  for (const q of [
    `select * from builds where tree = '${r.tree}' and sha = '${r.sha}' order by arch, defconfig, config`,
    `select * from boots where tree = '${r.tree}' and sha = '${r.sha}' order by platform, lab, config, run`,
    `select * from regressions where tree = '${r.tree}' and branch = '${r.branch}' and (first_bad_sha = '${r.sha}' or last_bad_sha = '${r.sha}' or fixed_sha = '${r.sha}') order by kind, config, platform`,
    `select * from regressions where state <> 'fixed' order by created_at desc, id desc limit 51`,
    `select distinct on (tree, branch) * from revisions order by tree, branch, started_at desc, id desc`,
  ]) {
    const ex = await sql.unsafe(`explain (analyze, buffers) ${q}`);
    console.log(ex.map((x: any) => x['QUERY PLAN']).join('\n'), '\n');
  }
  await sql.end(); await pg.stop();
}
main();
