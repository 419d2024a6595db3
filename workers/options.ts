import type { Sql } from 'postgres';
import type { ActivityInterceptorsFactory, NativeConnection, WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../domain/config';
import type { ArtifactStore } from '../plumbing/store/types';

/** What every worker kind is built from; the CLI and `bootfarm up` assemble it. */
export interface WorkerDeps {
  config: BootfarmConfig;
  connection: NativeConnection;
  namespace: string;
  store: ArtifactStore;
}

export interface OrchestratorDeps extends WorkerDeps {
  sql: Sql;
  client: Client;
  /** watch the orchestration activities (workers/metrics: what the record and mail activities record) */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

/** Workflow code for the orchestrator: a prebuilt bundle (tests) or the source path. */
export type WorkflowSource = { workflowBundle: { codePath: string } } | { workflowsPath: string };

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** How the orchestrator worker runs workflows and activities (measured with bench/pipeline.ts, BENCHMARKS.md). */
export type OrchestratorTuning = Partial<
  Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle' | 'workflowsPath'>
>;

/**
 * A revision fans out one buildBoot per build config (120 in the bench), so
 * workflow tasks arrive in bursts: more of them at once than the SDK's 40,
 * and pollers that scale with the backlog instead of a fixed 10. Activity
 * slots leave room for long waits (awaitBuildBoot heartbeats for as long as
 * the build it adopted runs). The V8 context stays shared (reuseV8Context,
 * the default): a context per workflow measured more CPU and ~90 MB more.
 */
export const ORCHESTRATOR_TUNING: OrchestratorTuning = {
  maxConcurrentWorkflowTaskExecutions: 100,
  workflowTaskPollerBehavior: { type: 'autoscaling' },
  maxConcurrentActivityTaskExecutions: 200,
};
