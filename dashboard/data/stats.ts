import { z } from 'zod';
import type { Sql } from 'postgres';
import { statusCountsSchema } from './rows';

export const dailyCountsSchema = z.strictObject({
  day: z.iso.date().describe('YYYY-MM-DD, UTC'),
  builds: statusCountsSchema,
  boots: statusCountsSchema,
});
export type DailyCounts = z.infer<typeof dailyCountsSchema>;

/**
 * Builds and boots per UTC day and status over the last `days` days, oldest
 * first, every day present. Boots are read from the per-day counters
 * migration 008's triggers keep: a chart of a million boots does not count them.
 */
export async function dailyCounts(sql: Sql, days: number): Promise<DailyCounts[]> {
  const rows = await sql<{ kind: 'builds' | 'boots'; day: string; status: string; n: string }[]>`
    with since as (select date_trunc('day', now(), 'UTC') - (${days - 1} * interval '1 day') as t)
    select 'builds' as kind, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, status, count(*) as n
      from builds where created_at >= (select t from since) group by 1, 2, 3
    union all
    select 'boots', to_char(day, 'YYYY-MM-DD'), status, sum(n)
      from boot_daily_counts where day >= (select t from since)::date and n <> 0 group by 1, 2, 3`;
  const [{ today }] = await sql<{ today: string }[]>`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD') as today`;
  const out: DailyCounts[] = [];
  const end = Date.parse(`${today}T00:00:00Z`);
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(end - i * 86_400_000).toISOString().slice(0, 10);
    out.push({ day, builds: {}, boots: {} });
  }
  const byDay = new Map(out.map((d) => [d.day, d]));
  for (const r of rows) {
    const d = byDay.get(r.day);
    if (d) d[r.kind][r.status] = Number(r.n);
  }
  return out;
}
