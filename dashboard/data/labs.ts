import type { Sql } from 'postgres';
import { fromRow } from './rows';

export interface LabPlatform {
  name: string;
  capacity: number;
}

export interface LabStatus {
  name: string;
  adapter: string;
  platforms: LabPlatform[];
  /** as recorded by the lab health check: online | offline | unknown */
  health: string;
  lastPollAt: string | null;
  lastResultAt: string | null;
  capacity: number;
  queued: number;
  running: number;
  pendingJobs: number;
  lastBoot: { id: number; status: string; platform: string; createdAt: string } | null;
}

/** Every lab with its load and its latest result; never its token hash. */
export async function listLabs(sql: Sql): Promise<LabStatus[]> {
  const rows = await sql`
    select l.name, l.adapter, l.platforms, l.health, l.last_poll_at, l.last_result_at,
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
    const { lastId, lastStatus, lastPlatform, lastCreatedAt, ...lab } = fromRow<
      Omit<LabStatus, 'capacity' | 'lastBoot'> & {
        lastId: string | null;
        lastStatus: string;
        lastPlatform: string;
        lastCreatedAt: string;
      }
    >(r);
    const platforms = Array.isArray(lab.platforms) ? lab.platforms : [];
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
