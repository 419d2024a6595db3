/**
 * Workers for the pipeline tests, from the run's workflow bundle: on a Java
 * time-skipping test server of the test file's own, or on the run's dev
 * server.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { findTool } from '../../plumbing/tools';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/searchAttributes';
import { temporalAddress, workflowBundlePath } from '../harness/services';

/** The test server with Bootfarm's search attributes registered (workflows upsert them). */
/**
 * The time-skipping test server. The SDK gives its JVM 5 s to answer; on a
 * busy 2-core machine it sometimes needs longer, so a start that timed out
 * is tried again (twice at most) rather than failing the suite.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const start = () =>
    TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: findTool('temporal-test-server') } },
    });
  let env: TestWorkflowEnvironment | undefined;
  for (let attempt = 1; !env; attempt++) {
    try {
      env = await start();
    } catch (e) {
      if (attempt >= 3 || !/did not start within/.test((e as Error).message)) throw e;
    }
  }
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTE_NAMES.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

export type WorkerSpec = Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'> & {
  workflows?: boolean;
};

type Host = TestWorkflowEnvironment | 'dev-server';

async function createWorker(
  host: Host,
  { workflows, ...opts }: WorkerSpec,
): Promise<{ worker: Worker; close(): Promise<void> }> {
  const bundle = workflows ? { workflowBundle: { codePath: workflowBundlePath() } } : {};
  if (host === 'dev-server') {
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    return { worker: await Worker.create({ ...opts, ...bundle, connection }), close: () => connection.close() };
  }
  return {
    worker: await Worker.create({ ...opts, ...bundle, connection: host.nativeConnection }),
    close: async () => {},
  };
}

/** Run `fn` while the given workers poll; workers are shut down (and drained) afterwards. */
export async function withWorkers<T>(host: Host, specs: WorkerSpec[], fn: () => Promise<T>): Promise<T> {
  const workers = await Promise.all(specs.map((s) => createWorker(host, s)));
  const running = workers.map((w) => w.worker.run());
  try {
    return await fn();
  } finally {
    for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(running);
    await Promise.all(workers.map((w) => w.close()));
  }
}
