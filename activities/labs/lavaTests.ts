/**
 * A boot's test plan in a LAVA lab: each planned suite becomes an inline
 * LAVA test definition of the job, run by LAVA's test shell on the booted
 * board, and its results come back through LAVA's results API
 * (`/jobs/N/tests/`).
 *
 * The board's rootfs provides the runner: `bootfarm-tests --lava SUITE`
 * runs the suite (a kselftest collection in Bootfarm's ramdisks), prints its
 * KTAP on the console and reports each of the suite's tests to LAVA with
 * `lava-test-case NAME --result pass|fail|skip|unknown`. LAVA keeps the
 * definition's results in a suite named `<index>_<suite>`, and records in
 * its own suite `lava` whether each definition ran to its end.
 */
import type { BootTests } from '../../domain/testPlans';
import { pathSegment } from '../../domain/ktap';
import {
  errorForSilentSuites,
  markSuiteError,
  suiteKey,
  type TestResult,
  type TestStatus,
} from '../../domain/testResults';
import type { LavaTestCase } from './lavaApi';

/** The command LAVA's test shell runs for a suite (suite names are path segments: no shell syntax). */
export const LAVA_SUITE_COMMAND = 'bootfarm-tests --lava';

/** LAVA names the results of the n-th test definition `<n>_<name>`. */
export function lavaSuiteName(index: number, suite: string): string {
  return `${index}_${suite}`;
}

/** The inline test definitions of a job (the `definitions` of its test action), one per planned suite. */
export function lavaTestDefinitions(tests: Pick<BootTests, 'suites'>): Record<string, unknown>[] {
  return tests.suites.map((s) => ({
    from: 'inline',
    name: s.suite,
    path: `inline/${s.suite}.yaml`,
    repository: {
      metadata: {
        format: 'Lava-Test Test Definition 1.0',
        name: s.suite,
        description: `Bootfarm test plan ${s.plan}: suite ${s.suite}`,
      },
      run: { steps: [`${LAVA_SUITE_COMMAND} ${s.suite}`] },
    },
  }));
}

const STATUS: Record<LavaTestCase['result'], TestStatus> = {
  pass: 'PASS',
  fail: 'FAIL',
  skip: 'SKIP',
  unknown: 'ERROR',
};

/**
 * Per-test results from LAVA's test cases: a case `a.b` of suite
 * `<n>_<suite>` is `<prefix>.<suite>.a.b`. A definition LAVA says did not
 * run to its end makes its suite an ERROR with LAVA's reason; a suite with
 * no case is an ERROR.
 */
export function testsFromLava(
  cases: readonly LavaTestCase[],
  tests: Pick<BootTests, 'suites'>,
): { results: TestResult[]; problems: string[] } {
  const results: TestResult[] = [];
  const problems: string[] = [];
  const paths = new Set<string>();
  const jobCase = cases.find((c) => c.suite === 'lava' && c.name === 'job');
  const jobError = [jobCase?.metadata.error_type, jobCase?.metadata.error_msg].filter(Boolean).join(': ');
  tests.suites.forEach((suite, i) => {
    const lavaSuite = lavaSuiteName(i, suite.suite);
    for (const c of cases.filter((x) => x.suite === lavaSuite)) {
      const rest = c.name.split('.').map((n) => pathSegment(n) || 'test');
      const base = [suiteKey(suite), ...rest].join('.');
      let path = base;
      for (let n = 2; paths.has(path); n++) path = `${base}_${n}`;
      paths.add(path);
      results.push({ path, plan: suite.plan, status: STATUS[c.result] ?? 'ERROR', log: [], subtests: 0 });
    }
    const definition = cases.find((x) => x.suite === 'lava' && x.name === lavaSuite);
    if (definition && definition.result !== 'pass') {
      const why = `the LAVA test definition did not run to its end${jobError ? ` (${jobError})` : ''}`;
      problems.push(`${suite.suite}: ${why}`);
      markSuiteError(results, suite, why);
    }
  });
  errorForSilentSuites(results, tests, problems, {
    why: `no results: LAVA recorded none for this suite${jobError ? ` (${jobError})` : ''}`,
  });
  return { results, problems };
}
