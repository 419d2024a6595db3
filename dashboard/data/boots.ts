import { z } from 'zod';
import type { Sql } from 'postgres';
import { cursorParam, limitParam, nameParam, shaParam } from '../validate';
import { keysetPage, shaStartsWith, type Page } from './page';
import { BOOT_COLUMNS, toBoot, type Boot } from '../../plumbing/db/rows';

export const bootStatuses = ['queued', 'running', 'pass', 'fail', 'infra-error', 'offline', 'skip'] as const;

export const bootFilters = z.strictObject({
  tree: nameParam.optional(),
  sha: shaParam.optional(),
  config: nameParam.optional(),
  platform: nameParam.optional(),
  lab: nameParam.optional(),
  status: z.enum(bootStatuses).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type BootFilters = z.output<typeof bootFilters>;

export function listBoots(sql: Sql, f: BootFilters): Promise<Page<Boot>> {
  return keysetPage(sql, {
    table: 'boots',
    time: 'created_at',
    columns: BOOT_COLUMNS,
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.config ? [sql`config = ${f.config}`] : []),
      ...(f.platform ? [sql`platform = ${f.platform}`] : []),
      ...(f.lab ? [sql`lab = ${f.lab}`] : []),
      ...(f.status ? [sql`status = ${f.status}`] : []),
    ],
    first: f.sha ? shaStartsWith(sql, f.sha) : undefined,
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: toBoot,
  });
}

export async function getBoot(sql: Sql, id: number): Promise<Boot | null> {
  const [row] = await sql`select ${sql.unsafe(BOOT_COLUMNS)} from boots where id = ${id}`;
  return row ? toBoot(row) : null;
}

/** Every boot of one tested commit of a tree, all configs, platforms, labs and runs; a bisection's boots are not the revision's. */
export async function bootsOf(sql: Sql, tree: string, sha: string): Promise<Boot[]> {
  const rows = await sql`select ${sql.unsafe(BOOT_COLUMNS)} from boots
    where tree = ${tree} and sha = ${sha} and scope = '' order by platform, lab, config, run`;
  return rows.map(toBoot);
}

/** Every boot a bisection made (its steps, verify and revert series), oldest first. */
export async function bootsOfBisection(sql: Sql, workflowId: string): Promise<Boot[]> {
  const rows = await sql`select ${sql.unsafe(BOOT_COLUMNS)} from boots
    where bisection = ${workflowId} order by created_at, id`;
  return rows.map(toBoot);
}

export async function bootsOfBuild(sql: Sql, buildId: number): Promise<Boot[]> {
  const rows =
    await sql`select ${sql.unsafe(BOOT_COLUMNS)} from boots where build_id = ${buildId} order by platform, lab, run`;
  return rows.map(toBoot);
}
