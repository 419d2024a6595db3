/**
 * A boot's per-test results in the artifact store: one JSON file
 * (domain/testResults.ts TestResultsFile) next to its console log, written by
 * the lab side (lab workers, the API lab's result post) and read by whoever
 * records or shows the results.
 */
import type { ArtifactRef } from '../../domain/types';
import type { BootTests } from '../../domain/testPlans';
import {
  TEST_STATUSES,
  summarizeTests,
  trimLogs,
  type TestResult,
  type TestResultsFile,
  type TestSource,
  type TestSummary,
} from '../../domain/testResults';
import type { ArtifactStore } from './types';

/** The results file that goes with a console log key (`…/console.log` → `…/tests.json`). */
export function testResultsKey(logKey: string): string {
  return logKey.replace(/(?:\/console\.log)?$/, '/tests.json');
}

/**
 * Stores the results (log lines kept for the results that did not pass) and
 * returns the summary the boot's result carries.
 */
export async function storeTestResults(
  store: ArtifactStore,
  key: string,
  file: { bootKey: string; source: TestSource; results: TestResult[]; problems: string[] },
  tests: Pick<BootTests, 'focus'>,
): Promise<TestSummary> {
  const results = trimLogs(file.results);
  const body: TestResultsFile = { format: 'bootfarm-test-results', version: 1, ...file, results };
  const ref: ArtifactRef = await store.put(key, JSON.stringify(body), { contentType: 'application/json' });
  return summarizeTests(results, file.problems, tests, ref);
}

/** The stored results of a boot; throws with the reason when the file is not one this version wrote. */
export async function readTestResults(store: ArtifactStore, ref: Pick<ArtifactRef, 'key'>): Promise<TestResultsFile> {
  const text = (await store.get(ref.key)).toString('utf8');
  let file: Partial<TestResultsFile>;
  try {
    file = JSON.parse(text) as Partial<TestResultsFile>;
  } catch (e) {
    throw new Error(`${ref.key}: not JSON: ${(e as Error).message}`);
  }
  if (file?.format !== 'bootfarm-test-results' || file.version !== 1 || !Array.isArray(file.results))
    throw new Error(`${ref.key}: not a bootfarm-test-results version 1 file`);
  const bad = file.results.find((r) => typeof r?.path !== 'string' || !TEST_STATUSES.includes(r.status));
  if (bad) throw new Error(`${ref.key}: a result without a path or with an unknown status: ${JSON.stringify(bad)}`);
  return file as TestResultsFile;
}
