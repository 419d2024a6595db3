import { z } from 'zod';
import type { Sql } from 'postgres';
import { isoTime } from '../../plumbing/db/rows';
import { fromRow } from './rows';

export const labPlatformSchema = z.strictObject({
  name: z.string(),
  capacity: z.number().int().describe("its boards: the boots its queue's workers take at once"),
  health: z
    .string()
    .describe("as recorded by the check before dispatch for the platform's queue: online | offline | unknown"),
  lastSeenAt: isoTime.nullable(),
});
export type LabPlatform = z.infer<typeof labPlatformSchema>;

export const labStatusSchema = z
  .strictObject({
    name: z.string(),
    adapter: z.string(),
    platforms: z.array(labPlatformSchema),
    health: z
      .string()
      .describe("the lab's platforms summed up: online (all), partial (some), offline (none) or unknown"),
    lastPollAt: isoTime.nullable(),
    lastResultAt: isoTime.nullable(),
    capacity: z.number().int(),
    queued: z.number().int(),
    running: z.number().int(),
    pendingJobs: z.number().int(),
    lastBoot: z
      .strictObject({ id: z.number().int(), status: z.string(), platform: z.string(), createdAt: isoTime })
      .nullable(),
  })
  .meta({ id: 'Lab' });
export type LabStatus = z.infer<typeof labStatusSchema>;

/** Every lab with its load and its latest result; never its token hash. */
export async function listLabs(sql: Sql): Promise<LabStatus[]> {
  const rows = await sql`
    select l.name, l.adapter, l.platforms, l.health, l.last_poll_at, l.last_result_at,
      (select coalesce(jsonb_object_agg(p.platform, jsonb_build_object('health', p.health, 'lastSeenAt', p.last_seen_at)), '{}')
         from lab_platforms p where p.lab = l.name) as platform_health,
      (select count(*) from boots b where b.lab = l.name and b.status = 'queued')::int as queued,
      (select count(*) from boots b where b.lab = l.name and b.status = 'running')::int as running,
      (select count(*) from lab_jobs j where j.lab = l.name and j.status = 'pending')::int as pending_jobs,
      last.id as last_id, last.status as last_status, last.platform as last_platform, last.created_at as last_created_at
    from labs l
    left join lateral (
      select id, status, platform, created_at from boots b
      where b.lab = l.name and b.status not in ('queued', 'running')
      order by created_at desc, id desc limit 1) last on true
    order by l.name`;
  return rows.map((r) => {
    const { lastId, lastStatus, lastPlatform, lastCreatedAt, platformHealth, ...lab } = fromRow<
      Omit<LabStatus, 'capacity' | 'lastBoot' | 'platforms'> & {
        platforms: unknown;
        platformHealth: Record<string, { health: string; lastSeenAt: string | null }>;
        lastId: string | null;
        lastStatus: string;
        lastPlatform: string;
        lastCreatedAt: string;
      }
    >(r);
    const configured = (Array.isArray(lab.platforms) ? lab.platforms : []) as { name: string; capacity: number }[];
    const platforms = configured.map((p) => ({
      name: p.name,
      capacity: p.capacity,
      health: platformHealth[p.name]?.health ?? 'unknown',
      lastSeenAt: isoOrNull(platformHealth[p.name]?.lastSeenAt),
    }));
    return {
      ...lab,
      platforms,
      capacity: platforms.reduce((n, p) => n + (Number(p.capacity) || 0), 0),
      lastBoot: lastId
        ? { id: Number(lastId), status: lastStatus, platform: lastPlatform, createdAt: lastCreatedAt }
        : null,
    };
  });
}

/** A timestamp from a jsonb object (PostgreSQL's text form) as ISO 8601. */
function isoOrNull(t: string | null | undefined): string | null {
  return t ? new Date(t).toISOString() : null;
}
