import type { Sql } from 'postgres';

/**
 * When the retention sweep removed the object at `key` from the store (a
 * build's artifact or log, a boot's console log), or null when it did not:
 * an old mail's link then says "expired" instead of "not found".
 */
export async function artifactExpiredAt(sql: Sql, key: string): Promise<string | null> {
  const [row] = await sql<{ at: Date | null }[]>`
    select min(at) as at from (
      select log_expired_at as at from builds where log_key = ${key} and log_expired_at is not null
      union all
      select log_expired_at from boots where log_key = ${key} and log_expired_at is not null
      union all
      select artifacts_expired_at from builds
      where artifacts_expired_at is not null
        and jsonb_path_query_array(artifacts, '$.*.key') @> ${sql.json([key])}
    ) expired`;
  return row?.at?.toISOString() ?? null;
}

/** When the retention sweep removed the archived mail `name` from the outbox, or null. */
export async function mailExpiredAt(sql: Sql, name: string): Promise<string | null> {
  const [row] = await sql<{ at: Date }[]>`
    select eml_expired_at as at from reports where eml_key = ${name} and eml_expired_at is not null limit 1`;
  return row?.at.toISOString() ?? null;
}
