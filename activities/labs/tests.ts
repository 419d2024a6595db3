/**
 * A boot's planned tests on the lab side: how the plan reaches the board
 * (the kernel command line, a shell lab's environment) and how the results
 * come back (KTAP on the console after the boot marker), stored as the
 * boot's results file with a summary for its BootResult.
 */
import type { BootRequest, BootResult } from '../../domain/types';
import { testsKernelArg } from '../../domain/testPlans';
import { missedResults, summarizeTests, testsFromKtap, type TestSummary } from '../../domain/testResults';
import { storeTestResults, testResultsKey } from '../../plumbing/store/testResults';
import type { ArtifactStore } from '../../plumbing/store/types';
import { bootLogKey } from './adapter';

/** The kernel command line of a boot: the platform's, and `bootfarm.tests=…` when tests are planned. */
export function bootKernelArgs(req: Pick<BootRequest, 'platform' | 'tests'>): string {
  return [req.platform.kernelArgs.trim(), req.tests ? testsKernelArg(req.tests) : ''].filter(Boolean).join(' ');
}

/** The plan for a shell lab's program. */
export function testsEnv(req: Pick<BootRequest, 'tests'>): Record<string, string> {
  const tests = req.tests;
  return {
    BOOTFARM_TEST_PLAN: tests ? [...new Set(tests.suites.map((s) => s.plan))].join(',') : '',
    BOOTFARM_TEST_SUITES: tests ? tests.suites.map((s) => s.suite).join(',') : '',
    BOOTFARM_TEST_TIMEOUT: tests ? String(Math.ceil(tests.timeoutMs / 1000)) : '0',
  };
}

/** The summary of planned tests that did not run because the boot did not pass. */
export function missedTestSummary(req: BootRequest, verdict: Pick<BootResult, 'status' | 'message'>): TestSummary {
  const tests = req.tests!;
  return summarizeTests(
    missedResults(tests, `not run: the boot ended ${verdict.status}: ${verdict.message}`),
    [],
    tests,
  );
}

export interface ConsoleTests {
  /** the boot's verdict */
  status: BootResult['status'];
  message: string;
  /** the whole console */
  console: string;
  /** 1-based console line of the boot marker */
  markerLine: number;
  /** why the tests' output stopped, when the lab stopped it at the plans' timeout */
  stopped?: string;
}

/**
 * The results of a boot's planned tests from its console: the KTAP printed
 * after the boot marker, stored next to the console log; MISS for every
 * suite when the boot did not pass. Undefined when no tests were planned.
 */
export async function consoleTestSummary(
  req: BootRequest,
  store: ArtifactStore,
  run: ConsoleTests,
): Promise<TestSummary | undefined> {
  if (!req.tests) return undefined;
  if (run.status !== 'pass') return missedTestSummary(req, run);
  const lines = run.console.split('\n');
  const { results, problems } = testsFromKtap(lines.slice(run.markerLine).join('\n'), req.tests, {
    lineOffset: run.markerLine,
    stopped: run.stopped,
  });
  return storeTestResults(
    store,
    testResultsKey(bootLogKey(req.bootKey)),
    { bootKey: req.bootKey, source: 'console', results, problems },
    req.tests,
  );
}

/** What a lab says when it stopped the board at the end of the plans' time. */
export function testsStoppedReason(req: Pick<BootRequest, 'tests'>): string {
  return `the lab stopped the tests at the plans' timeout of ${Math.round((req.tests?.timeoutMs ?? 0) / 1000)}s`;
}
