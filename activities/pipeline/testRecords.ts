/**
 * A boot's per-test results as rows of test_results (migration 011), written
 * in the boot's own transaction: from its results file when the lab stored
 * one, else from its summary, which then lists every result (the MISS of
 * each planned suite of a boot that failed). A boot recorded again replaces
 * its rows, so a retried activity or a re-run leaves one row per path.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { BootRecord } from '../../domain/activityContracts';
import type { TestResult, TestSummary } from '../../domain/testResults';
import type { ArtifactStore } from '../../plumbing/store/types';
import { readTestResults } from '../../plumbing/store/testResults';

/** The rows of one boot's results; a log excerpt keeps the last lines printed for a result that did not pass. */
export type TestRow = Pick<TestResult, 'path' | 'plan' | 'status' | 'xfail' | 'reason' | 'line'> & { excerpt?: string };

const EXCERPT_LINES = 20;
/** Rows per insert statement (PostgreSQL's bind limit is 65,535 parameters). */
const CHUNK = 1000;

/** The results a boot's summary stands for, read from the store when there is a results file. */
export async function testRows(summary: TestSummary, store: ArtifactStore | undefined): Promise<TestRow[]> {
  if (!summary.results) {
    const listed = summary.notPassing.length + (summary.notPassingOmitted ?? 0);
    const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
    if (listed !== total || summary.notPassingOmitted)
      throw new Error(`a test summary without its results file lists ${summary.notPassing.length} of ${total} results`);
    return summary.notPassing.map((r) => ({ path: r.path, plan: r.plan, status: r.status, reason: r.reason }));
  }
  if (!store) throw new Error(`recording the test results ${summary.results.key} needs the artifact store`);
  const file = await readTestResults(store, summary.results);
  return file.results.map((r) => ({
    path: r.path,
    plan: r.plan,
    status: r.status,
    xfail: r.xfail,
    reason: r.reason,
    line: r.line,
    ...(r.status !== 'PASS' && r.log.length ? { excerpt: r.log.slice(-EXCERPT_LINES).join('\n') } : {}),
  }));
}

/** Replaces the boot's rows with `rows`. */
export async function writeTestRows(
  tx: TransactionSql | Sql,
  boot: { id: number; scope: string; record: BootRecord },
  rows: readonly TestRow[],
): Promise<void> {
  const { id: bootId, scope, record: rec } = boot;
  await tx`delete from test_results where boot_id = ${bootId}`;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map((r) => ({
      boot_id: bootId,
      tree: rec.tree,
      sha: rec.sha,
      config: rec.config,
      platform: rec.result.platform,
      scope,
      path: r.path,
      plan: r.plan,
      status: r.status,
      xfail: r.xfail ?? false,
      reason: r.reason ?? null,
      log_excerpt: r.excerpt ?? null,
      log_line: r.line ?? null,
    }));
    await tx`insert into test_results ${tx(values)}`;
  }
}
