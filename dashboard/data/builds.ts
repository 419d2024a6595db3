import { z } from 'zod';
import type { Sql } from 'postgres';
import { cursorParam, limitParam, nameParam, shaParam } from '../validate';
import { keysetPage, shaStartsWith, type Page } from './page';
import { BUILD_COLUMNS, toBuild, type Build } from '../../plumbing/db/rows';

export const buildStatuses = ['running', 'pass', 'fail', 'infra-error'] as const;

export const buildFilters = z.strictObject({
  tree: nameParam.optional(),
  sha: shaParam.optional(),
  config: nameParam.optional(),
  arch: nameParam.optional(),
  status: z.enum(buildStatuses).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type BuildFilters = z.output<typeof buildFilters>;

export function listBuilds(sql: Sql, f: BuildFilters): Promise<Page<Build>> {
  return keysetPage(sql, {
    table: 'builds',
    time: 'created_at',
    columns: BUILD_COLUMNS,
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.config ? [sql`config = ${f.config}`] : []),
      ...(f.arch ? [sql`arch = ${f.arch}`] : []),
      ...(f.status ? [sql`status = ${f.status}`] : []),
    ],
    first: f.sha ? shaStartsWith(sql, f.sha) : undefined,
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: toBuild,
  });
}

export async function getBuild(sql: Sql, id: number): Promise<Build | null> {
  const [row] = await sql`select ${sql.unsafe(BUILD_COLUMNS)} from builds where id = ${id}`;
  return row ? toBuild(row) : null;
}

/** Every build of one tested commit of a tree (one per build config); a bisection's builds are not the revision's. */
export async function buildsOf(sql: Sql, tree: string, sha: string): Promise<Build[]> {
  const rows = await sql`select ${sql.unsafe(BUILD_COLUMNS)} from builds
    where tree = ${tree} and sha = ${sha} and scope = '' order by arch, defconfig, config`;
  return rows.map(toBuild);
}
