import type { Sql } from 'postgres';
import type { NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../common/config';
import type { ArtifactStore } from '../activities/store/types';

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
}

/** Workflow code for the orchestrator: a prebuilt bundle (tests) or the source path. */
export type WorkflowSource = { workflowBundle: { codePath: string } } | { workflowsPath: string };

export const WORKFLOWS_PATH = require.resolve('../workflows');
