import { z } from 'zod';
import type { Sql } from 'postgres';
import { isoTime } from '../../plumbing/db/rows';
import { countsOf, statusCountsSchema } from './rows';

export const platformCoverageSchema = z.strictObject({
  name: z.string(),
  arch: z.string(),
  soc: z.string(),
  dtb: z.string().nullable(),
  bootMethod: z.string(),
  labs: z.array(z.string()),
  boots: statusCountsSchema.describe('boots of the last `days` UTC days (today included) by status'),
  lastBootAt: isoTime.nullable(),
});
export type PlatformCoverage = z.infer<typeof platformCoverageSchema>;

export const socFamilySchema = z
  .strictObject({ soc: z.string(), platforms: z.array(platformCoverageSchema), boots: statusCountsSchema })
  .meta({ id: 'SocFamily' });
export type SocFamily = z.infer<typeof socFamilySchema>;

/** Platforms grouped by SoC family, with the labs that have them and their recent boots. */
export async function platformCoverage(sql: Sql, days = 30): Promise<SocFamily[]> {
  const platforms = await sql<{ name: string; arch: string; soc: string; dtb: string | null; boot_method: string }[]>`
    select name, arch, soc, dtb, boot_method from platforms order by soc, name`;
  const labs = await sql<
    { name: string; platforms: { name: string }[] }[]
  >`select name, platforms from labs order by name`;
  // Counted from the per-day counters migration 008's triggers keep (a million boots are not counted per request);
  // the last boot of each platform is the newest entry of boots_platform_created.
  const [stats, lastBoots] = await Promise.all([
    sql<{ platform: string; status: string; n: string }[]>`
      select platform, status, sum(n) as n from boot_daily_counts
      where day > (now() at time zone 'UTC')::date - ${days}::int and n <> 0
      group by platform, status`,
    sql<{ platform: string; last_at: Date | null }[]>`
      select p.name as platform,
        (select max(created_at) from boots b
         where b.platform = p.name and b.created_at > now() - ${days} * interval '1 day') as last_at
      from platforms p`,
  ]);
  const lastAt = new Map(lastBoots.map((l) => [l.platform, l.last_at]));
  const families = new Map<string, SocFamily>();
  for (const p of platforms) {
    const mine = stats.filter((s) => s.platform === p.name);
    const last = lastAt.get(p.name) ?? null;
    const coverage: PlatformCoverage = {
      name: p.name,
      arch: p.arch,
      soc: p.soc,
      dtb: p.dtb,
      bootMethod: p.boot_method,
      labs: labs
        .filter((l) => Array.isArray(l.platforms) && l.platforms.some((lp) => lp?.name === p.name))
        .map((l) => l.name),
      boots: countsOf(mine),
      lastBootAt: last ? last.toISOString() : null,
    };
    const family = families.get(p.soc) ?? { soc: p.soc, platforms: [], boots: {} };
    family.platforms.push(coverage);
    for (const [status, n] of Object.entries(coverage.boots)) family.boots[status] = (family.boots[status] ?? 0) + n;
    families.set(p.soc, family);
  }
  return [...families.values()];
}
