import type { Sql } from 'postgres';
import { countsOf, type StatusCounts } from './rows';

export interface PlatformCoverage {
  name: string;
  arch: string;
  soc: string;
  dtb: string | null;
  bootMethod: string;
  labs: string[];
  /** boots of the last `days` days by status */
  boots: StatusCounts;
  lastBootAt: string | null;
}

export interface SocFamily {
  soc: string;
  platforms: PlatformCoverage[];
  boots: StatusCounts;
}

/** Platforms grouped by SoC family, with the labs that have them and their recent boots. */
export async function platformCoverage(sql: Sql, days = 30): Promise<SocFamily[]> {
  const platforms = await sql<{ name: string; arch: string; soc: string; dtb: string | null; boot_method: string }[]>`
    select name, arch, soc, dtb, boot_method from platforms order by soc, name`;
  const labs = await sql<
    { name: string; platforms: { name: string }[] }[]
  >`select name, platforms from labs order by name`;
  const stats = await sql<{ platform: string; status: string; n: string; last_at: Date }[]>`
    select platform, status, count(*) as n, max(created_at) as last_at from boots
    where created_at > now() - ${days} * interval '1 day'
    group by platform, status`;
  const families = new Map<string, SocFamily>();
  for (const p of platforms) {
    const mine = stats.filter((s) => s.platform === p.name);
    const last = mine.reduce<Date | null>((m, s) => (m && m > s.last_at ? m : s.last_at), null);
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
