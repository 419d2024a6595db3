import { z } from 'zod';
import type { Sql } from 'postgres';
import { cursorParam, limitParam, nameParam } from '../validate';
import { keysetPage, type Page } from './page';
import { fromRow, type Bisection, type Regression } from './rows';

export const bisectionStatuses = ['running', 'found', 'not-found', 'invalid', 'error', 'cancelled'] as const;

export const bisectionFilters = z.strictObject({
  tree: nameParam.optional(),
  config: nameParam.optional(),
  platform: nameParam.optional(),
  status: z.enum(bisectionStatuses).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type BisectionFilters = z.output<typeof bisectionFilters>;

export function listBisections(sql: Sql, f: BisectionFilters): Promise<Page<Bisection>> {
  return keysetPage(sql, {
    table: 'bisections',
    time: 'created_at',
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.config ? [sql`config = ${f.config}`] : []),
      ...(f.platform ? [sql`platform = ${f.platform}`] : []),
      ...(f.status ? [sql`status = ${f.status}`] : []),
    ],
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: fromRow<Bisection>,
  });
}

export async function getBisection(sql: Sql, id: number): Promise<Bisection | null> {
  const [row] = await sql`select * from bisections where id = ${id}`;
  return row ? fromRow<Bisection>(row) : null;
}

/** The row id of the bisection with this workflow id (a bisection's build or boot names its bisection so). */
export async function bisectionIdOf(sql: Sql, workflowId: string): Promise<number | null> {
  const [row] = await sql<{ id: string }[]>`select id from bisections where workflow_id = ${workflowId}`;
  return row ? Number(row.id) : null;
}

export async function regressionsOfBisection(sql: Sql, id: number): Promise<Regression[]> {
  const rows = await sql`select * from regressions where bisection_id = ${id} order by id`;
  return rows.map(fromRow<Regression>);
}
