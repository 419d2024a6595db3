import type { Sql, TransactionSql } from 'postgres';
import { assertName } from '../../domain/names';
import { labHealthOf } from '../../domain/labWorker';
import { hashLabToken, newLabToken } from '../labToken';

export class UnknownLabError extends Error {
  constructor(name: string) {
    super(
      `no lab ${JSON.stringify(name)}: add it with \`bootfarm lab add ${name}\` or list them with \`bootfarm lab list\``,
    );
    this.name = 'UnknownLabError';
  }
}

/** labs.health from its own switch and its platforms' health. */
async function summarise(tx: TransactionSql, lab: string): Promise<void> {
  const [row] = await tx<
    { stopped: boolean }[]
  >`select worker_stopped_at is not null as stopped from labs where name = ${lab}`;
  const platforms = await tx<{ health: string }[]>`select health from lab_platforms where lab = ${lab}`;
  const health = row?.stopped ? 'offline' : platforms.length ? labHealthOf(platforms.map((p) => p.health)) : 'online';
  await tx`update labs set health = ${health} where name = ${lab}`;
}

export interface LabRow {
  name: string;
  adapter: string;
  platforms: { name: string; capacity: number }[];
  health: string;
  has_token: boolean;
  last_poll_at: Date | null;
  last_result_at: Date | null;
  /** set while an operator has the lab's in-process worker stopped */
  worker_stopped_at: Date | null;
  /** by platform: when an operator stopped that platform's in-process worker alone (ISO 8601) */
  platform_stopped: Record<string, string>;
}

/** Lab identity for labs that talk to the REST API: a token shown once, stored only as its hash. */
export function labAdmin(sql: Sql) {
  return {
    async add(name: string, adapter: string, platforms: { name: string; capacity: number }[]): Promise<boolean> {
      assertName('lab', name);
      const rows =
        await sql`insert into labs (name, adapter, platforms) values (${name}, ${adapter}, ${sql.json(platforms)})
                             on conflict (name) do nothing returning name`;
      return rows.length > 0;
    },
    /** A new token replaces the old one, which stops working at once. */
    async newToken(name: string): Promise<string> {
      const token = newLabToken();
      const rows = await sql`update labs set token_hash = ${hashLabToken(token)} where name = ${name} returning name`;
      if (!rows.length) throw new UnknownLabError(name);
      return token;
    },
    async revoke(name: string): Promise<void> {
      const rows = await sql`update labs set token_hash = null where name = ${name} returning name`;
      if (!rows.length) throw new UnknownLabError(name);
    },
    list(): Promise<LabRow[]> {
      return sql<
        LabRow[]
      >`select name, adapter, platforms, health, token_hash is not null as has_token, last_poll_at, last_result_at,
               worker_stopped_at,
               (select coalesce(jsonb_object_agg(p.platform, p.worker_stopped_at), '{}') from lab_platforms p
                 where p.lab = labs.name and p.worker_stopped_at is not null) as platform_stopped
                           from labs order by name`;
    },
    /**
     * An operator stopped the lab's in-process workers (or one platform's) at
     * `at`: the lab (or that platform) is offline from then on.
     */
    async workerStopped(name: string, at: Date, platform?: string): Promise<void> {
      await sql.begin(async (tx) => {
        if (platform) {
          await tx`insert into lab_platforms (lab, platform, health, worker_stopped_at, checked_at)
                   values (${name}, ${platform}, 'offline', ${at}, now())
                   on conflict (lab, platform) do update set health = 'offline', worker_stopped_at = ${at}, checked_at = now()`;
        } else {
          await tx`update labs set worker_stopped_at = ${at} where name = ${name}`;
          await tx`update lab_platforms set health = 'offline', checked_at = now() where lab = ${name}`;
        }
        await summarise(tx, name);
      });
    },
    /** The lab's in-process workers (or one platform's) run (again) and poll their queues. */
    async workerStarted(name: string, platform?: string): Promise<void> {
      await sql.begin(async (tx) => {
        if (platform) {
          await tx`update lab_platforms set worker_stopped_at = null, health = 'online', checked_at = now()
                   where lab = ${name} and platform = ${platform}`;
        } else {
          await tx`update labs set worker_stopped_at = null where name = ${name}`;
          await tx`update lab_platforms set worker_stopped_at = null, health = 'online', checked_at = now()
                   where lab = ${name}`;
        }
        await summarise(tx, name);
      });
    },
  };
}
