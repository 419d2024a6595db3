import type { Sql } from 'postgres';
import { assertName } from '../../domain/names';
import { hashLabToken, newLabToken } from '../labToken';

export class UnknownLabError extends Error {
  constructor(name: string) {
    super(
      `no lab ${JSON.stringify(name)}: add it with \`bootfarm lab add ${name}\` or list them with \`bootfarm lab list\``,
    );
    this.name = 'UnknownLabError';
  }
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
               worker_stopped_at
                           from labs order by name`;
    },
    /** An operator stopped the lab's in-process workers at `at`: the lab and all its platforms are offline from then on. */
    async workerStopped(name: string, at: Date): Promise<void> {
      await sql.begin(async (tx) => {
        await tx`update labs set worker_stopped_at = ${at}, health = 'offline' where name = ${name}`;
        await tx`update lab_platforms set health = 'offline', checked_at = now() where lab = ${name}`;
      });
    },
    /** The lab's in-process workers run (again) and poll their queues. */
    async workerStarted(name: string): Promise<void> {
      await sql.begin(async (tx) => {
        await tx`update labs set worker_stopped_at = null, health = 'online' where name = ${name}`;
        await tx`update lab_platforms set health = 'online', checked_at = now() where lab = ${name}`;
      });
    },
  };
}
