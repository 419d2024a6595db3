/**
 * The tests of an API lab's boot: its result post may carry the KTAP its
 * board printed after the boot marker (`ktap`) or structured results
 * (`tests`), checked against the boot's plan (the BootRequest the job was
 * parked with), bounded, and stored as the boot's results file.
 */
import { z } from 'zod';
import { TEST_PATH } from '../../domain/ktap';
import type { BootTests } from '../../domain/testPlans';
import {
  MAX_TEST_RESULTS,
  missedResults,
  summarizeTests,
  testsFromKtap,
  testsFromPosted,
  UnplannedTestError,
  type TestSummary,
} from '../../domain/testResults';
import { storeTestResults } from '../../plumbing/store/testResults';
import type { ArtifactStore } from '../../plumbing/store/types';
import { badRequest } from '../http';

const postedResult = z.strictObject({
  path: z.string().max(512).regex(TEST_PATH, 'a dotted test path, e.g. kselftest.timers.posix_timers'),
  status: z.enum(['PASS', 'FAIL', 'SKIP', 'ERROR']),
  reason: z.string().max(1000).optional(),
  log: z.array(z.string().max(300)).max(20).optional(),
  xfail: z.boolean().optional(),
});

/** The test fields of a lab's result post (dashboard/api/labApi.ts labResultBody). */
export const labTestFields = {
  /** what the board printed after the boot marker: KTAP (at most 8 MiB) */
  ktap: z
    .string()
    .max(8 * 1024 * 1024, 'at most 8 MiB')
    .optional(),
  /** or the results themselves (at most 20000) */
  tests: z.array(postedResult).max(MAX_TEST_RESULTS).optional(),
};

function plannedTests(request: Record<string, unknown> | null): BootTests | undefined {
  const tests = request?.tests as BootTests | undefined;
  return tests && Array.isArray(tests.suites) && tests.suites.length ? tests : undefined;
}

/**
 * The summary for the boot's result, its results file stored under
 * `keyBase`; undefined when the boot had no plan. A post with both forms,
 * with results but no plan, or with a result outside the plan is refused
 * (400) before anything is stored. The results of a boot that did not pass
 * are MISS, whatever was posted.
 */
export async function labTestSummary(
  store: ArtifactStore,
  keyBase: string,
  request: Record<string, unknown> | null,
  body: { status: string; message?: string; ktap?: string; tests?: z.output<typeof postedResult>[] },
): Promise<TestSummary | undefined> {
  const tests = plannedTests(request);
  const posted = body.ktap !== undefined ? 'ktap' : body.tests !== undefined ? 'tests' : undefined;
  if (body.ktap !== undefined && body.tests !== undefined)
    throw badRequest('tests', 'give the results as ktap or as tests, not both');
  if (!tests) {
    if (posted) throw badRequest(posted, 'this boot has no test plan: it takes no test results');
    return undefined;
  }
  if (body.status !== 'pass')
    return summarizeTests(
      missedResults(tests, `not run: the boot ended ${body.status}${body.message ? `: ${body.message}` : ''}`),
      [],
      tests,
    );
  let parsed: ReturnType<typeof testsFromPosted>;
  try {
    parsed = body.ktap !== undefined ? testsFromKtap(body.ktap, tests) : testsFromPosted(body.tests ?? [], tests);
  } catch (e) {
    if (e instanceof UnplannedTestError) throw badRequest(`tests.${e.index}.path`, e.message);
    throw e;
  }
  return storeTestResults(
    store,
    `${keyBase}/tests.json`,
    { bootKey: String(request?.bootKey ?? ''), source: 'api', ...parsed },
    tests,
  );
}
