import postgres, { type Sql } from 'postgres';

/** A database URL fit for a log line: the password masked. */
export function safeDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export class DatabaseUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach PostgreSQL at ${safeDatabaseUrl(url)}: ${(cause as Error).message ?? cause}`);
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
