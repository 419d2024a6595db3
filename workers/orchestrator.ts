import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { taskQueues } from '../common/ids';
import { createConfigActivities } from '../activities/db/configRecords';
import { createResultActivities } from '../activities/db/results';
import { createGitActivities } from '../activities/git';
import { createLabHealthActivities } from '../activities/labHealth';
import { createWorkflowLookupActivities } from '../activities/workflowLookup';
import { createRegressionActivities } from '../activities/regressions';
import { createMailActivities } from '../activities/report/mailer';
import type { OrchestratorDeps, WorkflowSource } from './options';

/** The orchestration activities: database, git metadata, lab health, reports. */
export function orchestratorActivities(deps: OrchestratorDeps) {
  const { sql, client, config } = deps;
  return {
    ...createConfigActivities({ sql }),
    ...createResultActivities({ sql }),
    ...createGitActivities({ mirrorDir: join(config.dataDir, 'mirrors') }),
    ...createLabHealthActivities({ client, sql }),
    ...createWorkflowLookupActivities({ client }),
    ...createRegressionActivities({ sql }),
    ...createMailActivities({
      sql,
      smtpUrl: config.email.smtpUrl,
      outboxDir: config.email.outbox,
      dashboardUrl: config.dashboard.publicUrl ?? `http://127.0.0.1:${config.dashboard.port}`,
    }),
  };
}

/** Workflows and orchestration activities on the `bootfarm` queue. */
export async function createOrchestratorWorker(deps: OrchestratorDeps, source: WorkflowSource, taskQueue = taskQueues.orchestrator): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue,
    activities: orchestratorActivities(deps),
    ...source,
  });
}
