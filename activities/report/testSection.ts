/**
 * The boot report's test section (the classic one of kernel CI mails): per
 * platform, how many tests ran and how many failed, then each failing path
 * with its config and lab, why, the last lines it printed and its boot's
 * page. Read from test_results for the boots the report counts (one per
 * config, platform and lab), so its numbers are those of the boot section.
 */
import type { Sql } from 'postgres';
import type { TestStatus } from '../../domain/testResults';
import { heading, urlLine, wrap } from './textLayout';

export interface TestFailure {
  path: string;
  status: Exclude<TestStatus, 'PASS' | 'SKIP'>;
  config: string;
  lab: string;
  reason: string;
  /** the last lines printed for it, at most EXCERPT_LINES */
  excerpt: string[];
  /** its boot's dashboard page (shows the console) */
  pageUrl: string;
}

export interface PlatformTests {
  platform: string;
  total: number;
  counts: Record<TestStatus, number>;
  /** FAIL, ERROR and MISS results, by path */
  failures: TestFailure[];
}

/** Log lines quoted per failure in the mail (the page has the rest). */
export const EXCERPT_LINES = 5;
/** Failures listed per platform; the rest are counted. */
export const MAX_LISTED = 20;

interface Row {
  boot_id: string;
  path: string;
  status: TestStatus;
  reason: string | null;
  log_excerpt: string | null;
}

/** The test section of the boots `boots` (the report's chosen runs), by platform. */
export async function platformTests(
  sql: Sql,
  boots: readonly { id: number; config: string; platform: string; lab: string }[],
  pageUrl: (bootId: number) => string,
): Promise<PlatformTests[]> {
  if (!boots.length) return [];
  const byId = new Map(boots.map((b) => [b.id, b]));
  const rows = await sql<Row[]>`
    select boot_id, path, status, reason, log_excerpt from test_results
    where boot_id = any(${boots.map((b) => b.id)}::bigint[]) order by path, boot_id`;
  const sections = new Map<string, PlatformTests>();
  for (const r of rows) {
    const boot = byId.get(Number(r.boot_id))!;
    let s = sections.get(boot.platform);
    if (!s) {
      s = { platform: boot.platform, total: 0, counts: { PASS: 0, FAIL: 0, SKIP: 0, ERROR: 0, MISS: 0 }, failures: [] };
      sections.set(boot.platform, s);
    }
    s.total++;
    s.counts[r.status]++;
    if (r.status === 'PASS' || r.status === 'SKIP') continue;
    s.failures.push({
      path: r.path,
      status: r.status,
      config: boot.config,
      lab: boot.lab,
      reason: r.reason ?? '',
      excerpt: (r.log_excerpt ?? '').split('\n').filter(Boolean).slice(-EXCERPT_LINES),
      pageUrl: pageUrl(boot.id),
    });
  }
  return [...sections.values()].sort((a, b) => a.platform.localeCompare(b.platform));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `Tests: 3 platforms, 24 tests, 2 failed` and the per-platform lines, ≤ 80 columns. */
export function testSectionLines(sections: readonly PlatformTests[]): string[] {
  if (!sections.length) return [];
  const total = sections.reduce((n, s) => n + s.total, 0);
  const failed = sections.reduce((n, s) => n + s.counts.FAIL + s.counts.ERROR, 0);
  const missed = sections.reduce((n, s) => n + s.counts.MISS, 0);
  const out = [...heading(`Tests (${plural(total, 'test')}, ${failed} failed${missed ? `, ${missed} not run` : ''})`)];
  for (const s of sections) {
    const c = s.counts;
    out.push(
      ...wrap(
        `${s.platform}: ${plural(s.total, 'test')}, ${c.PASS} passed, ${c.FAIL} failed` +
          `${c.ERROR ? `, ${c.ERROR} errors` : ''}${c.SKIP ? `, ${c.SKIP} skipped` : ''}` +
          `${c.MISS ? `, ${c.MISS} not run (boot failed)` : ''}`,
      ),
    );
    for (const f of s.failures.slice(0, MAX_LISTED)) {
      out.push(...wrap(`${f.status} ${f.path}`, '  ', '    '));
      out.push(...wrap(`${f.config} (${f.lab})${f.reason ? `: ${f.reason}` : ''}`, '    ', '      '));
      for (const line of f.excerpt) out.push(...wrap(line, '    | ', '    | '));
      out.push(urlLine(f.pageUrl, '    '));
    }
    if (s.failures.length > MAX_LISTED) out.push(`  and ${s.failures.length - MAX_LISTED} more`);
  }
  out.push('');
  return out;
}
