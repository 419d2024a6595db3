/**
 * Per-test results of a boot's test plans, and how they come back from a lab.
 *
 * A lab adapter turns what the board printed (or what LAVA or an API lab
 * reported) into TestResults: one per test, with a dotted path
 * `<suite's prefix>.<suite>.<case>…` and a KCIDB status (PASS, FAIL, SKIP,
 * ERROR, and MISS for tests that did not run because the boot failed).
 * The full results, with their log lines, go to the artifact store as one
 * JSON file (TestResultsFile); the boot's result carries a TestSummary:
 * counts, the key of that file, and the tests that did not pass (bounded),
 * so workflow history stays small whatever a suite prints.
 *
 * Pure code: workflows import it (withMissedTests).
 */
import type { ArtifactRef, BootResult } from './types';
import type { BootTests, PlannedSuite } from './testPlans';
import { isTopLevelVersionLine, parseKtap, type KtapResult, type KtapStatus } from './ktap';

export const TEST_STATUSES = ['PASS', 'FAIL', 'SKIP', 'ERROR', 'MISS'] as const;
export type TestStatus = KtapStatus | 'MISS';

export interface TestResult {
  /** `<prefix>.<suite>.<case>…` (KCIDB's test path) */
  path: string;
  /** the plan that ran it */
  plan: string;
  status: TestStatus;
  /** a failure that was expected (KTAP's `not ok … # TODO`, kselftest's XFAIL): status PASS */
  xfail?: boolean;
  /** a SKIP's reason, an ERROR's cause, a MISS's boot failure */
  reason?: string;
  /** the last lines printed for it (kept for results that did not pass) */
  log: string[];
  /** its subtests (0 for a test case) */
  subtests: number;
  /** 1-based line of the boot's stored console log where its result was printed */
  line?: number;
}

/** Where a boot's results came from. */
export type TestSource = 'console' | 'lava' | 'api';

/** The JSON artifact of a boot's results (TestSummary.results). */
export interface TestResultsFile {
  format: 'bootfarm-test-results';
  version: 1;
  bootKey: string;
  source: TestSource;
  results: TestResult[];
  /** what was wrong with the output (each is also an ERROR's reason) */
  problems: string[];
}

/** A result that did not pass, as the boot's result lists it. */
export interface NotPassing {
  path: string;
  /** the plan that ran it (or would have: a MISS) */
  plan: string;
  status: Exclude<TestStatus, 'PASS'>;
  reason?: string;
}

/** BootResult.tests: small enough for workflow history whatever the suites printed. */
export interface TestSummary {
  /** results per status, suites and cases alike */
  counts: Record<TestStatus, number>;
  /** the TestResultsFile; absent when nothing ran (every suite MISS without a lab's answer) */
  results?: ArtifactRef;
  /** results that did not pass, in order, at most MAX_NOT_PASSING */
  notPassing: NotPassing[];
  /** how many more did not pass */
  notPassingOmitted?: number;
  /** the status of each BootTests.focus path (MISS when it did not run) */
  focus?: Record<string, TestStatus>;
  /** the output's problems, the first few */
  problems?: string[];
}

export const MAX_NOT_PASSING = 100;
/** Results kept per boot; the parser's ERROR says when more were printed. */
export const MAX_TEST_RESULTS = 20_000;
/** Results that keep their log lines in the results file (the first ones that did not pass). */
const MAX_LOGGED = 2_000;
const MAX_SUMMARY_REASON = 200;
const MAX_SUMMARY_PROBLEMS = 5;
const MAX_REASON = 1000;

/** The parser's own prefix; each result's first segment after it is its suite. */
const PARSE_PREFIX = 'tests';

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

function emptyCounts(): Record<TestStatus, number> {
  return { PASS: 0, FAIL: 0, SKIP: 0, ERROR: 0, MISS: 0 };
}

/** One MISS per planned suite: its tests did not run (the boot failed, or never happened). */
export function missedResults(tests: Pick<BootTests, 'suites'>, reason: string): TestResult[] {
  return tests.suites.map((s) => ({
    path: `${s.prefix}.${s.suite}`,
    plan: s.plan,
    status: 'MISS',
    reason: clip(reason, MAX_REASON),
    log: [],
    subtests: 0,
  }));
}

/** The summary a boot's result carries; `results` is the stored TestResultsFile, when there is one. */
export function summarizeTests(
  results: readonly TestResult[],
  problems: readonly string[],
  tests: Pick<BootTests, 'focus'>,
  ref?: ArtifactRef,
): TestSummary {
  const counts = emptyCounts();
  const notPassing: NotPassing[] = [];
  let omitted = 0;
  for (const r of results) {
    counts[r.status]++;
    if (r.status === 'PASS') continue;
    if (notPassing.length >= MAX_NOT_PASSING) omitted++;
    else
      notPassing.push({
        path: r.path,
        plan: r.plan,
        status: r.status,
        ...(r.reason ? { reason: clip(r.reason, MAX_SUMMARY_REASON) } : {}),
      });
  }
  return {
    counts,
    ...(ref ? { results: ref } : {}),
    notPassing,
    ...(omitted ? { notPassingOmitted: omitted } : {}),
    ...(tests.focus?.length ? { focus: focusStatuses(results, tests.focus) } : {}),
    ...(problems.length
      ? { problems: problems.slice(0, MAX_SUMMARY_PROBLEMS).map((p) => clip(p, MAX_SUMMARY_REASON)) }
      : {}),
  };
}

/** A focus path's status: its own result's, else an enclosing suite's ERROR or MISS, else MISS (it did not run). */
function focusStatuses(results: readonly TestResult[], focus: readonly string[]): Record<string, TestStatus> {
  const byPath = new Map(results.map((r) => [r.path, r.status]));
  const out: Record<string, TestStatus> = {};
  for (const path of focus) {
    let status = byPath.get(path);
    for (let cut = path.lastIndexOf('.'); !status && cut > 0; cut = path.lastIndexOf('.', cut - 1)) {
      const enclosing = byPath.get(path.slice(0, cut));
      if (enclosing === 'ERROR' || enclosing === 'MISS') status = enclosing;
    }
    out[path] = status ?? 'MISS';
  }
  return out;
}

/**
 * The summary of a boot whose tests did not run: a boot that failed, or
 * one the lab never answered (offline, infra-error). A boot that already
 * carries a summary, or had no plan, is returned as it is.
 */
export function withMissedTests(result: BootResult, tests: BootTests | undefined): BootResult {
  if (!tests || result.tests) return result;
  const reason = `not run: the boot ended ${result.status}: ${result.message}`;
  return { ...result, tests: summarizeTests(missedResults(tests, reason), [], tests) };
}

/** Keeps log lines for results that did not pass (the first MAX_LOGGED), so the results file stays small. */
export function trimLogs(results: TestResult[]): TestResult[] {
  let logged = 0;
  return results.map((r) => {
    if (r.status !== 'PASS' && r.log.length && logged < MAX_LOGGED) {
      logged++;
      return r;
    }
    return r.log.length ? { ...r, log: [] } : r;
  });
}

// --- suites ----------------------------------------------------------------------

/** The path of a planned suite's own result. */
export const suiteKey = (s: Pick<PlannedSuite, 'prefix' | 'suite'>) => `${s.prefix}.${s.suite}`;

/** Whether any result is the suite's or one of its tests'. */
function reported(results: readonly TestResult[], s: PlannedSuite): boolean {
  const key = suiteKey(s);
  return results.some((r) => r.path === key || r.path.startsWith(`${key}.`));
}

/** The suite's own result becomes an ERROR with `why` (one that failed or skipped keeps its status and gets the reason). */
export function markSuiteError(
  results: TestResult[],
  suite: PlannedSuite,
  why: string,
  at: { log?: string[]; line?: number } = {},
): void {
  const path = suiteKey(suite);
  const own = results.find((r) => r.path === path);
  if (!own)
    results.push({
      path,
      plan: suite.plan,
      status: 'ERROR',
      reason: clip(why, MAX_REASON),
      log: at.log ?? [],
      subtests: 0,
      ...(at.line !== undefined ? { line: at.line } : {}),
    });
  else if (own.status === 'PASS') {
    own.status = 'ERROR';
    own.reason = clip(why, MAX_REASON);
  } else own.reason = clip(own.reason ? `${own.reason}; ${why}` : why, MAX_REASON);
}

/**
 * A planned suite with no result at all is an ERROR (`why`): never a silent
 * pass. Returns how many there were; each is also added to `problems`.
 */
export function errorForSilentSuites(
  results: TestResult[],
  tests: Pick<BootTests, 'suites'>,
  problems: string[],
  at: { why: string; line?: number },
): number {
  const silent = tests.suites.filter((s) => !reported(results, s));
  for (const s of silent) {
    problems.push(`${s.suite}: ${at.why}`);
    markSuiteError(results, s, at.why, { line: at.line });
  }
  return silent.length;
}

// --- posted by a lab ------------------------------------------------------------

/** A result as an API lab posts it (validated by the API's schema). */
export interface PostedTestResult {
  path: string;
  status: KtapStatus;
  reason?: string;
  log?: string[];
  xfail?: boolean;
}

/** A posted result that is not a test of the boot's plan: the whole post is refused. */
export class UnplannedTestError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'UnplannedTestError';
  }
}

/**
 * Structured results an API lab posted, checked against the boot's plan:
 * every path must be a planned suite or under one (UnplannedTestError
 * otherwise), each path once; a planned suite without results is an ERROR.
 */
export function testsFromPosted(
  posted: readonly PostedTestResult[],
  tests: Pick<BootTests, 'suites'>,
): { results: TestResult[]; problems: string[] } {
  const results: TestResult[] = [];
  const seen = new Set<string>();
  // each result counts toward every enclosing path's subtests
  const below = new Map<string, number>();
  for (const p of posted)
    for (let cut = p.path.lastIndexOf('.'); cut > 0; cut = p.path.lastIndexOf('.', cut - 1))
      below.set(p.path.slice(0, cut), (below.get(p.path.slice(0, cut)) ?? 0) + 1);
  posted.forEach((p, i) => {
    const suite = tests.suites.find((s) => p.path === suiteKey(s) || p.path.startsWith(`${suiteKey(s)}.`));
    if (!suite)
      throw new UnplannedTestError(
        i,
        `${p.path} is not a test of the boot's plan (its suites: ${tests.suites.map(suiteKey).join(', ')})`,
      );
    if (seen.has(p.path)) throw new UnplannedTestError(i, `${p.path} is given twice`);
    seen.add(p.path);
    results.push({
      path: p.path,
      plan: suite.plan,
      status: p.status,
      ...(p.xfail ? { xfail: true } : {}),
      ...(p.reason ? { reason: clip(p.reason, MAX_REASON) } : {}),
      log: p.log ?? [],
      subtests: below.get(p.path) ?? 0,
    });
  });
  const problems: string[] = [];
  errorForSilentSuites(results, tests, problems, { why: 'no results: the lab posted none for this suite' });
  return { results, problems };
}

// --- from KTAP ------------------------------------------------------------------

export interface KtapTestsOptions {
  /** console lines before `text` (the boot log up to the marker), so results' lines point into the stored log */
  lineOffset?: number;
  /** why the output stopped when the lab stopped it (the plans' timeout), added to the ERRORs it caused */
  stopped?: string;
}

interface Segment {
  text: string;
  /** lines of `text` before this segment */
  offset: number;
}

/** Console text cut into top-level documents (a version line at column 0 opens one). */
function documents(text: string): Segment[] {
  const lines = text.split('\n');
  const out: Segment[] = [];
  let start = -1;
  const close = (end: number) => {
    if (start >= 0) out.push({ text: lines.slice(start, end).join('\n'), offset: start });
  };
  lines.forEach((line, i) => {
    if (!isTopLevelVersionLine(line)) return;
    close(i);
    start = i;
  });
  close(lines.length);
  return out;
}

/** The suite a kselftest collection's document runs, from the runner's `# selftests: <suite>: <program>` lines. */
function kselftestCollection(text: string): string | undefined {
  return /^#\s*selftests:\s*([A-Za-z0-9_-]+):/m.exec(text)?.[1];
}

const suiteOf = (r: KtapResult) => r.path.split('.')[1];

/** A result's reason: a SKIP's own words; other directives (TIMEOUT, TODO, XFAIL) named with their data. */
function reasonOf(r: KtapResult): string | undefined {
  if (!r.directive || r.directive === 'SKIP' || r.directive === 'ERROR') return r.reason;
  return r.reason ? `${r.directive} ${r.reason}` : r.directive;
}

/**
 * Per-test results of the suites a boot ran, from its console after the
 * boot marker. Each top-level result's first segment is its suite (KUnit
 * and the fixture print one document whose results are suites; kselftest's
 * runner prints one document per collection, its results named
 * `selftests: <suite>: <program>`). Results of suites the plan did not ask
 * for are left out. A document cut short or contradicting itself is an
 * ERROR for the suite it belongs to; a planned suite that printed nothing is
 * an ERROR; the parser's own ERRORs stand. Never throws.
 */
export function testsFromKtap(
  text: string,
  tests: Pick<BootTests, 'suites'>,
  opts: KtapTestsOptions = {},
): { results: TestResult[]; problems: string[] } {
  const planned = new Map<string, PlannedSuite>(tests.suites.map((s) => [s.suite, s]));
  const results: TestResult[] = [];
  const problems: string[] = [];
  const paths = new Set<string>();
  const unplanned = new Map<string, number>();
  /** problems of documents whose results are suites, for the suites that printed nothing */
  const stray: { why: string; last?: PlannedSuite }[] = [];
  const lineOffset = opts.lineOffset ?? 0;

  const add = (suite: PlannedSuite, r: KtapResult, offset: number) => {
    const rest = r.path.split('.').slice(2);
    const base = [suite.prefix, suite.suite, ...rest].join('.');
    let path = base;
    for (let n = 2; paths.has(path); n++) path = `${base}_${n}`;
    paths.add(path);
    results.push({
      path,
      plan: suite.plan,
      status: r.status,
      ...(r.xfail ? { xfail: true } : {}),
      ...(reasonOf(r) ? { reason: reasonOf(r) } : {}),
      log: r.log,
      subtests: r.subtests,
      line: r.line + offset + lineOffset,
    });
  };
  const suiteError = (suite: PlannedSuite, why: string, log: string[], line: number) => {
    paths.add(suiteKey(suite));
    markSuiteError(results, suite, why, { log, line });
  };

  const key = suiteKey;
  const printed = (s: PlannedSuite) => reported(results, s);

  let budget = MAX_TEST_RESULTS;
  const docs = documents(text);
  if (!docs.length) stray.push({ why: 'no KTAP output: no "KTAP version 1" or "TAP version N" line' });
  for (const doc of docs) {
    const parsed = parseKtap(doc.text, { prefix: PARSE_PREFIX, maxResults: Math.max(1, budget) });
    budget -= parsed.results.length;
    problems.push(...parsed.problems);
    const own = parsed.results.filter((r) => r.path !== PARSE_PREFIX);
    const top = parsed.results.find((r) => r.path === PARSE_PREFIX);
    for (const r of own) {
      const suite = planned.get(suiteOf(r));
      if (suite) add(suite, r, doc.offset);
      else unplanned.set(suiteOf(r), (unplanned.get(suiteOf(r)) ?? 0) + 1);
    }
    if (!top) continue;
    const suites = [...new Set(own.map(suiteOf))];
    // one suite without a result line of its own: the document is that suite's (a kselftest collection)
    const owner =
      suites.length === 1 && !own.some((r) => r.path === `${PARSE_PREFIX}.${suites[0]}`)
        ? suites[0]
        : suites.length === 0
          ? kselftestCollection(doc.text)
          : undefined;
    const suite = owner !== undefined ? planned.get(owner) : undefined;
    const line = top.line + doc.offset + lineOffset;
    if (top.status === 'SKIP') {
      if (suite && !printed(suite))
        results.push({
          path: key(suite),
          plan: suite.plan,
          status: 'SKIP',
          ...(top.reason ? { reason: top.reason } : {}),
          log: [],
          subtests: 0,
          line,
        });
    } else if (suite) suiteError(suite, top.reason ?? 'the output is broken', top.log, line);
    else if (owner === undefined)
      // a document whose results are suites: its problem concerns the suites it did not reach, or its last one
      stray.push({ why: top.reason ?? 'the output is broken', last: planned.get(suites[suites.length - 1] ?? '') });
  }

  const endLine = lineOffset + text.split('\n').length;
  const silent = errorForSilentSuites(results, tests, problems, {
    why: ['no results: the suite printed nothing after the boot marker', ...stray.map((x) => x.why)].join('; '),
    line: endLine,
  });
  if (!silent) for (const { why, last } of stray) if (last) suiteError(last, why, [], endLine);
  if (unplanned.size)
    problems.push(
      `results of suites the plan does not run were left out: ${[...unplanned].map(([s, n]) => `${s} (${n})`).join(', ')}`,
    );
  if (opts.stopped)
    for (const r of results)
      if (r.status === 'ERROR' && /the output ended|printed nothing|no KTAP output/.test(r.reason ?? ''))
        r.reason = clip(`${r.reason}; ${opts.stopped}`, MAX_REASON);
  return { results, problems };
}
