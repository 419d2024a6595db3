/**
 * A Java time-skipping test server for one test file, and workers on it
 * built from the run's workflow bundle.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { findTool } from '../../stack/tools';
import { SEARCH_ATTRIBUTE_NAMES } from '../../common/searchAttributes';
import { workflowBundlePath } from '../harness/services';

/** The test server with Bootfarm's search attributes registered (workflows upsert them). */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: findTool('temporal-test-server') } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_NAMES.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

type WorkerSpec = Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'> & { workflows?: boolean };

/** Run `fn` while the given workers poll; workers are shut down (and drained) afterwards. */
export async function withWorkers<T>(env: TestWorkflowEnvironment, specs: WorkerSpec[], fn: () => Promise<T>): Promise<T> {
  const workers = await Promise.all(
    specs.map(({ workflows, ...opts }) =>
      Worker.create({ ...opts, connection: env.nativeConnection, ...(workflows ? { workflowBundle: { codePath: workflowBundlePath() } } : {}) }),
    ),
  );
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
  }
}
