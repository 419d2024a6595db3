/** Per-test results (test_results, migration 011) as the dashboard and its exports read them. */
import type { Sql } from 'postgres';
import type { TestStatus } from '../../domain/testResults';

export interface TestRow {
  id: number;
  bootId: number;
  path: string;
  plan: string;
  status: TestStatus;
  xfail: boolean;
  reason: string | null;
  logExcerpt: string | null;
  createdAt: string;
}

/** The results of these boots, by boot and path. */
export async function testsOfBoots(sql: Sql, bootIds: readonly number[]): Promise<TestRow[]> {
  if (!bootIds.length) return [];
  const rows = await sql`
    select id, boot_id, path, plan, status, xfail, reason, log_excerpt, created_at from test_results
    where boot_id = any(${bootIds as number[]}::bigint[]) order by boot_id, path`;
  return rows.map((r) => ({
    id: Number(r.id),
    bootId: Number(r.boot_id),
    path: r.path as string,
    plan: r.plan as string,
    status: r.status as TestStatus,
    xfail: r.xfail as boolean,
    reason: (r.reason as string | null) ?? null,
    logExcerpt: (r.log_excerpt as string | null) ?? null,
    createdAt: (r.created_at as Date).toISOString(),
  }));
}
