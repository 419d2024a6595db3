import type postgres from 'postgres';
import type { Sql } from 'postgres';
import { badRequest } from '../http';

export interface Page<T> {
  items: T[];
  /** pass it back as `cursor` for the next page; null on the last page */
  nextCursor: string | null;
}

interface Cursor {
  /** the row's timestamp in microseconds since the epoch: exact, unlike a JS Date */
  us: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.us}.${c.id}`).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  const m = /^([0-9]{1,18})\.([1-9][0-9]{0,18})$/.exec(
    /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString('latin1') : '',
  );
  if (!m || BigInt(m[2]) > 2n ** 63n - 1n)
    throw badRequest('cursor', 'invalid cursor: pass back a nextCursor this API returned');
  return { us: m[1], id: m[2] };
}

/** `a and b and c` of SQL fragments; `true` for none. */
export function and(sql: Sql, conds: postgres.Fragment[]): postgres.Fragment {
  return conds.reduce((acc, c) => sql`${acc} and ${c}`, sql`true`);
}

/**
 * The rows whose `sha` starts with `prefix` (lowercase hex, as validated), as
 * a byte-wise range: every sha that starts with it sorts between it and it +
 * 'g' ('g' is above every hex digit), and nothing else does. Unlike
 * starts_with() or LIKE with a parameter, the range is read from a
 * text_pattern_ops index on sha (migration 008) in a prepared statement's
 * generic plan too.
 */
export function shaStartsWith(sql: Sql, prefix: string): postgres.Fragment {
  return sql`sha ~>=~ ${prefix} and sha ~<~ ${`${prefix}g`}`;
}

/**
 * One page of `table` newest first, by keyset on (time, id): stable under
 * concurrent inserts (no duplicates, nothing skipped) and served by an index
 * on (time desc, id desc) whatever the page number.
 */
export async function keysetPage<T>(
  sql: Sql,
  q: {
    table: string;
    time: 'created_at' | 'started_at';
    /** the select list; default every column */
    columns?: string;
    where: postgres.Fragment[];
    /**
     * A condition few rows meet (a commit prefix: one commit's builds or
     * boots), applied before the rest. Left to itself PostgreSQL may walk the
     * time index and filter instead, as it estimates a 12-digit prefix at one
     * histogram bucket (2,300 builds where a commit has 120): 1 s at a million
     * rows. A materialized CTE makes it read the condition's index first.
     */
    first?: postgres.Fragment;
    limit: number;
    cursor?: string;
    map: (row: Record<string, unknown>) => T;
  },
): Promise<Page<T>> {
  const conds = [...q.where];
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    conds.push(
      sql`(${sql(q.time)}, id) < ('epoch'::timestamptz + ${c.us}::bigint * interval '1 microsecond', ${c.id}::bigint)`,
    );
  }
  const rows = await sql`
    ${q.first ? sql`with matched as materialized (select * from ${sql(q.table)} where ${q.first})` : sql``}
    select *, (extract(epoch from ${sql(q.time)}) * 1000000)::bigint::text as _cursor_us
    from ${q.first ? sql`matched` : sql(q.table)}
    where ${and(sql, conds)}
    order by ${sql(q.time)} desc, id desc
    limit ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => {
      const { _cursor_us: _, ...rest } = r;
      return q.map(rest);
    }),
    nextCursor: more && last ? encodeCursor({ us: String(last._cursor_us), id: String(last.id) }) : null,
  };
}
