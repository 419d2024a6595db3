import postgres, { type Sql } from 'postgres';

export class DatabaseUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    const safe = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    super(`cannot reach PostgreSQL at ${safe}: ${(cause as Error).message ?? cause}`);
    this.name = 'DatabaseUnreachableError';
  }
}

/** A pool, checked once so an unreachable database is one clear error at start-up. */
export async function connectDb(url: string, opts: { max?: number } = {}): Promise<Sql> {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connect_timeout: 5,
    transform: { undefined: null },
  });
  try {
    await sql`select 1`;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new DatabaseUnreachableError(url, e);
  }
  return sql;
}
