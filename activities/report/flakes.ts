/**
 * The `boot_flakiness` table: per (build config, platform, lab), the recent
 * pass/fail series and its flake rate (definitions in domain/flakiness.ts).
 * It is recomputed from the revisions' own boots (scope '', never a
 * bisection's) for the series a revision touched, so refreshing twice gives
 * the same row.
 */
import type { Sql } from 'postgres';
import { FLAKE_WINDOW, flakeSummary, type FlakeSummary, type KernelBoots } from '../../domain/flakiness';
import type { RevisionKey } from '../../domain/reports';

export interface FlakeKey {
  config: string;
  platform: string;
  lab: string;
}

export const flakeKeyId = (k: FlakeKey) => `${k.config}\u0000${k.platform}\u0000${k.lab}`;

/** The last FLAKE_WINDOW kernels of one series with their verdict boots, newest first. */
async function kernelsOf(sql: Sql, k: FlakeKey): Promise<KernelBoots[]> {
  const rows = await sql<{ build_id: string; tree: string; sha: string; status: 'pass' | 'fail' }[]>`
    with kernels as (
      select build_id, max(created_at) as at from boots
      where config = ${k.config} and platform = ${k.platform} and lab = ${k.lab} and scope = ''
        and status in ('pass', 'fail')
      group by build_id order by at desc limit ${FLAKE_WINDOW})
    select b.build_id, b.tree, b.sha, b.status from boots b join kernels using (build_id)
    where b.platform = ${k.platform} and b.lab = ${k.lab} and b.status in ('pass', 'fail')
    order by kernels.at desc, b.build_id, b.run`;
  const byBuild = new Map<string, KernelBoots>();
  for (const r of rows) {
    let kernel = byBuild.get(r.build_id);
    if (!kernel) byBuild.set(r.build_id, (kernel = { tree: r.tree, sha: r.sha, outcomes: [] }));
    kernel.outcomes.push(r.status);
  }
  return [...byBuild.values()];
}

/** The (config, platform, lab) series a revision booted. */
export async function seriesOfRevision(sql: Sql, rev: Pick<RevisionKey, 'tree' | 'sha'>): Promise<FlakeKey[]> {
  return sql<FlakeKey[]>`
    select distinct config, platform, lab from boots where tree = ${rev.tree} and sha = ${rev.sha} and scope = ''
    order by config, platform, lab`;
}

/** Recompute the flakiness rows of these series from their boots. */
export async function refreshFlakiness(sql: Sql, keys: FlakeKey[]): Promise<Map<string, FlakeSummary>> {
  const out = new Map<string, FlakeSummary>();
  for (const k of keys) {
    const s = flakeSummary(await kernelsOf(sql, k));
    out.set(flakeKeyId(k), s);
    await sql`
      insert into boot_flakiness (config, platform, lab, kernels, boots, flakes, flake_rate, series, updated_at)
      values (${k.config}, ${k.platform}, ${k.lab}, ${s.kernels}, ${s.boots}, ${s.flakes}, ${s.flakeRate},
              ${sql.json(s.series)}, now())
      on conflict (config, platform, lab) do update set
        kernels = excluded.kernels, boots = excluded.boots, flakes = excluded.flakes, flake_rate = excluded.flake_rate,
        series = excluded.series, updated_at = now()`;
  }
  return out;
}

export interface FlakeCounts {
  flakes: number;
  boots: number;
  flakeRate: number;
}

/** The recorded flakiness of each series (no boots for a series never recorded). */
export async function flakeCounts(sql: Sql, keys: FlakeKey[]): Promise<Map<string, FlakeCounts>> {
  const out = new Map<string, FlakeCounts>(keys.map((k) => [flakeKeyId(k), { flakes: 0, boots: 0, flakeRate: 0 }]));
  if (!keys.length) return out;
  const rows = await sql<(FlakeKey & { flakes: number; boots: number; flake_rate: number })[]>`
    select config, platform, lab, f.flakes, f.boots, f.flake_rate from boot_flakiness f
    join unnest(${keys.map((k) => k.config)}::text[], ${keys.map((k) => k.platform)}::text[],
                ${keys.map((k) => k.lab)}::text[]) as k (config, platform, lab) using (config, platform, lab)`;
  for (const r of rows) out.set(flakeKeyId(r), { flakes: r.flakes, boots: r.boots, flakeRate: r.flake_rate });
  return out;
}
