import { z } from 'zod';
import type { Sql } from 'postgres';
import { branchParam, cursorParam, limitParam, nameParam } from '../validate';
import { keysetPage, type Page } from './page';
import { fromRow, type Report } from './rows';

export const reportFilters = z.strictObject({
  tree: nameParam.optional(),
  branch: branchParam.optional(),
  kind: z.enum(['build', 'boot', 'bisect', 'follow-up']).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type ReportFilters = z.output<typeof reportFilters>;

export function listReports(sql: Sql, f: ReportFilters): Promise<Page<Report>> {
  return keysetPage(sql, {
    table: 'reports',
    time: 'created_at',
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.branch ? [sql`branch = ${f.branch}`] : []),
      ...(f.kind ? [sql`kind = ${f.kind}`] : []),
    ],
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: fromRow<Report>,
  });
}
