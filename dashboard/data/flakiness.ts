import { z } from 'zod';
import type { Sql } from 'postgres';
import { limitParam, nameParam } from '../validate';
import { fromRow, type Flakiness } from './rows';

export const flakinessFilters = z.strictObject({
  config: nameParam.optional(),
  platform: nameParam.optional(),
  lab: nameParam.optional(),
  limit: limitParam.optional(),
});
export type FlakinessFilters = z.output<typeof flakinessFilters>;

/** The recorded flakiness of boot series, flakiest first (refreshed as revisions record their regressions). */
export async function listFlakiness(sql: Sql, f: FlakinessFilters): Promise<Flakiness[]> {
  const where = [
    ...(f.config ? [sql`config = ${f.config}`] : []),
    ...(f.platform ? [sql`platform = ${f.platform}`] : []),
    ...(f.lab ? [sql`lab = ${f.lab}`] : []),
  ];
  const rows = await sql`
    select config, platform, lab, kernels, boots, flakes, flake_rate, series, updated_at from boot_flakiness
    ${where.length ? sql`where ${where.reduce((a, b) => sql`${a} and ${b}`)}` : sql``}
    order by flake_rate desc, config, platform, lab limit ${f.limit ?? 50}`;
  return rows.map(fromRow<Flakiness>);
}
