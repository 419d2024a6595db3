import { z } from 'zod';
import type { Sql } from 'postgres';
import { branchParam, cursorParam, limitParam, nameParam } from '../validate';
import { keysetPage, type Page } from './page';
import { fromRow, type Regression, type RegressionEvent } from './rows';

export const regressionStates = ['new', 'still-failing', 'fixed'] as const;

export const regressionFilters = z.strictObject({
  tree: nameParam.optional(),
  branch: branchParam.optional(),
  kind: z.enum(['build', 'boot']).optional(),
  config: nameParam.optional(),
  platform: nameParam.optional(),
  state: z.enum(regressionStates).optional(),
  /** `active` = new or still failing */
  active: z.enum(['true', 'false']).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type RegressionFilters = z.output<typeof regressionFilters>;

export function listRegressions(sql: Sql, f: RegressionFilters): Promise<Page<Regression>> {
  return keysetPage(sql, {
    table: 'regressions',
    time: 'created_at',
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.branch ? [sql`branch = ${f.branch}`] : []),
      ...(f.kind ? [sql`kind = ${f.kind}`] : []),
      ...(f.config ? [sql`config = ${f.config}`] : []),
      ...(f.platform ? [sql`platform = ${f.platform}`] : []),
      ...(f.state ? [sql`state = ${f.state}`] : []),
      ...(f.active === 'true' ? [sql`state <> 'fixed'`] : f.active === 'false' ? [sql`state = 'fixed'`] : []),
    ],
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: fromRow<Regression>,
  });
}

export async function getRegression(sql: Sql, id: number): Promise<Regression | null> {
  const [row] = await sql`select * from regressions where id = ${id}`;
  return row ? fromRow<Regression>(row) : null;
}

/** A regression's transitions (failed, fixed, failed again), oldest first. */
export async function regressionHistory(sql: Sql, id: number): Promise<RegressionEvent[]> {
  const rows = await sql`select sha, event, at from regression_history where regression_id = ${id} order by at, id`;
  return rows.map(fromRow<RegressionEvent>);
}
