/**
 * `bootfarm try` in the database: developer tokens (scope `try`, shown once
 * and stored as their SHA-256 like lab tokens), each developer's uploads and
 * runs, and the per-developer rate limits counted over the last hour.
 */
import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { DEVELOPER_PATTERN, type TryFileRole } from '../../domain/tryRun';
import { UserError } from '../../domain/userError';
import { hashLabToken as hashToken } from '../labToken';

export function newDeveloperToken(): string {
  return `bft_${randomBytes(32).toString('base64url')}`;
}

export interface TryUpload {
  key: string;
  role: TryFileRole;
  size: number;
  sha256: string;
}

/** A limit reached: retry after this many seconds. */
export class RateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

export function tryAdmin(sql: Sql) {
  /** Refuses when `table` has `limit` rows of the developer in the last hour, saying when one frees up. */
  async function underLimit(table: 'try_uploads' | 'try_runs', developer: string, limit: number, what: string) {
    const [row] = await sql<{ n: number; oldest: Date | null }[]>`
      select count(*)::int as n, min(created_at) as oldest from ${sql(table)}
      where developer = ${developer} and created_at > now() - interval '1 hour'`;
    if (row.n < limit) return;
    const retryAfterS = Math.max(1, Math.ceil(((row.oldest?.getTime() ?? Date.now()) + 3_600_000 - Date.now()) / 1000));
    throw new RateLimitedError(
      `${developer} has made ${row.n} ${what} in the last hour (the limit is ${limit})`,
      retryAfterS,
    );
  }

  return {
    /** A new token for the developer, replacing the old one (which stops working at once). */
    async newToken(developer: string): Promise<string> {
      if (!DEVELOPER_PATTERN.test(developer))
        throw new UserError(
          `invalid developer name ${JSON.stringify(developer)}: expected ${DEVELOPER_PATTERN.source}`,
        );
      const token = newDeveloperToken();
      await sql`insert into developer_tokens (developer, token_hash) values (${developer}, ${hashToken(token)})
                on conflict (developer) do update set token_hash = excluded.token_hash, created_at = now()`;
      return token;
    },
    async revoke(developer: string): Promise<void> {
      const rows = await sql`delete from developer_tokens where developer = ${developer} returning developer`;
      if (!rows.length) throw new UserError(`developer ${JSON.stringify(developer)} has no token`);
    },
    /** The developer a `try` token belongs to, or undefined. */
    async developerOf(token: string): Promise<string | undefined> {
      const [row] = await sql<{ developer: string }[]>`
        select developer from developer_tokens where token_hash = ${hashToken(token)} and scope = 'try'`;
      return row?.developer;
    },
    canUpload: (developer: string, perHour: number) => underLimit('try_uploads', developer, perHour, 'uploads'),
    canStart: (developer: string, perHour: number) => underLimit('try_runs', developer, perHour, 'tries'),
    async recordUpload(developer: string, upload: TryUpload): Promise<void> {
      await sql`insert into try_uploads (developer, role, key, size, sha256)
                values (${developer}, ${upload.role}, ${upload.key}, ${upload.size}, ${upload.sha256})`;
    },
    /** The developer's own upload of that key (another developer's key is not found). */
    async upload(developer: string, key: string): Promise<TryUpload | undefined> {
      const [row] = await sql<{ key: string; role: TryFileRole; size: string; sha256: string }[]>`
        select key, role, size, sha256 from try_uploads where developer = ${developer} and key = ${key}`;
      return row ? { ...row, size: Number(row.size) } : undefined;
    },
    async recordRun(run: {
      developer: string;
      workflowId: string;
      platform: string;
      lab: string;
      plan?: string;
      kernelKey: string;
    }): Promise<void> {
      await sql`insert into try_runs (developer, workflow_id, platform, lab, plan, kernel_key)
                values (${run.developer}, ${run.workflowId}, ${run.platform}, ${run.lab}, ${run.plan ?? null}, ${run.kernelKey})`;
    },
    /** Whether the run is the developer's. */
    async owns(developer: string, workflowId: string): Promise<boolean> {
      const [row] = await sql`select 1 from try_runs where developer = ${developer} and workflow_id = ${workflowId}`;
      return !!row;
    },
  };
}
