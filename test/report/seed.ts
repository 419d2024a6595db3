/**
 * Results inserted the way the pipeline records them (one revisions row, a
 * builds row per build config, a boots row per platform × lab × run), so the
 * regression and report code reads what it reads in production.
 */
import type { Sql } from 'postgres';

export interface SeedBoot {
  platform: string;
  lab?: string;
  run?: number;
  status: string;
  logKey?: string;
  message?: string;
  finishedAt?: Date;
  /** its test plan's results (test_results rows) */
  tests?: SeedTest[];
}

export interface SeedTest {
  path: string;
  status: 'PASS' | 'FAIL' | 'SKIP' | 'ERROR' | 'MISS';
  plan?: string;
  reason?: string;
  excerpt?: string;
}

export interface SeedBuild {
  config: string;
  arch?: string;
  status: string;
  warnings?: number;
  errors?: number;
  errorLines?: string[];
  logKey?: string;
  message?: string;
  finishedAt?: Date;
  boots?: SeedBoot[];
}

export interface SeedRevision {
  tree: string;
  branch: string;
  sha: string;
  describe?: string;
  subject?: string;
  startedAt: Date;
  builds: SeedBuild[];
}

let counter = 0;
/** A 40-hex sha that is unique within the test run and starts with a readable prefix. */
export function fakeSha(prefix: string): string {
  counter++;
  return `${prefix}${counter.toString(16).padStart(6, '0')}`.padEnd(40, 'e').slice(0, 40);
}

export const DAY = 86_400_000;

export async function seedTree(sql: Sql, name: string, url = `https://git.example.org/${name}.git`): Promise<void> {
  await sql`insert into trees (name, url) values (${name}, ${url}) on conflict (name) do nothing`;
}

export async function seedRevision(sql: Sql, rev: SeedRevision): Promise<void> {
  await seedTree(sql, rev.tree);
  await sql`insert into revisions (tree, branch, sha, describe, subject, author, author_email, started_at)
            values (${rev.tree}, ${rev.branch}, ${rev.sha}, ${rev.describe ?? ''}, ${rev.subject ?? 'Merge tag for-next'},
                    'A U Thor', 'author@example.org', ${rev.startedAt})`;
  for (const b of rev.builds) await addBuild(sql, rev, b);
}

export async function addBuild(
  sql: Sql,
  rev: { tree: string; sha: string; startedAt: Date },
  b: SeedBuild,
): Promise<number> {
  const arch = b.arch ?? 'x86_64';
  const [{ id }] = await sql<{ id: string }[]>`
    insert into builds (tree, sha, config, arch, defconfig, toolchain, status, warnings, errors, log_key, error_lines, message, finished_at)
    values (${rev.tree}, ${rev.sha}, ${b.config}, ${arch}, 'defconfig', 'gcc-12', ${b.status}, ${b.warnings ?? 0}, ${b.errors ?? 0},
            ${b.logKey ?? `builds/${rev.tree}/${rev.sha.slice(0, 12)}/${b.config}/build.log`}, ${sql.json(b.errorLines ?? [])},
            ${b.message ?? null}, ${b.finishedAt ?? rev.startedAt})
    on conflict (tree, sha, config, scope) do update set status = excluded.status
    returning id`;
  for (const boot of b.boots ?? []) await addBoot(sql, rev, Number(id), b.config, arch, boot);
  return Number(id);
}

export async function addBoot(
  sql: Sql,
  rev: { tree: string; sha: string; startedAt: Date },
  buildId: number,
  config: string,
  arch: string,
  boot: SeedBoot,
): Promise<void> {
  const lab = boot.lab ?? 'local';
  const run = boot.run ?? 0;
  const [{ id }] = await sql<{ id: string }[]>`
    insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, log_key, message, finished_at)
    values (${buildId}, ${rev.tree}, ${rev.sha}, ${config}, ${arch}, ${boot.platform}, ${lab}, ${run}, ${boot.status},
            ${boot.status === 'offline' ? null : `boots/${rev.tree}/${rev.sha.slice(0, 12)}/${config}/${boot.platform}/${lab}/${run}.log`},
            ${boot.message ?? (boot.status === 'fail' ? 'Kernel panic - not syncing: VFS: Unable to mount root fs' : '')},
            ${boot.finishedAt ?? rev.startedAt})
    returning id`;
  for (const t of boot.tests ?? [])
    await sql`
      insert into test_results (boot_id, tree, sha, config, platform, path, plan, status, reason, log_excerpt)
      values (${id}, ${rev.tree}, ${rev.sha}, ${config}, ${boot.platform}, ${t.path}, ${t.plan ?? 'smoke'}, ${t.status},
              ${t.reason ?? null}, ${t.excerpt ?? null})`;
}
