import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { taskQueues } from '../domain/ids';
import { createConfigActivities } from '../activities/pipeline/configRecords';
import { createResultActivities } from '../activities/pipeline/records';
import { createGitActivities } from '../activities/pipeline/git';
import { createLabHealthActivities } from '../activities/labs/health';
import { createWorkflowLookupActivities } from '../activities/pipeline/workflowLookup';
import { createRegressionActivities } from '../activities/report/regressions';
import { createMailActivities } from '../activities/report/mailer';
import { createBisectActivities } from '../activities/bisect';
import { createApiLabActivities } from '../activities/labs/api';
import { createProgressActivities } from '../activities/pipeline/progress';
import { createRetentionActivities } from '../activities/retention';
import { heartbeatingWhileRunning } from '../plumbing/git/heartbeat';
import { ORCHESTRATOR_TUNING, type OrchestratorDeps, type OrchestratorTuning, type WorkflowSource } from './options';

/** The orchestration activities: database, git metadata, lab health, reports, bisection. */
export function orchestratorActivities(deps: OrchestratorDeps) {
  const { sql, client, config, store } = deps;
  const mail = {
    sql,
    smtpUrl: config.email.smtpUrl,
    outboxDir: config.email.outbox,
    dashboardUrl: config.dashboard.publicUrl ?? `http://127.0.0.1:${config.dashboard.port}`,
  };
  const mirrorDir = join(config.dataDir, 'mirrors');
  return {
    ...createConfigActivities({ sql }),
    ...createResultActivities({ sql, store }),
    ...createProgressActivities({ sql }),
    // git metadata and bisection run under a heartbeat timeout (workflows/activityOptions.ts gitMetadata)
    ...heartbeatingWhileRunning(createGitActivities({ mirrorDir })),
    ...createLabHealthActivities({ client, sql }),
    ...createWorkflowLookupActivities({ client }),
    ...createRegressionActivities({ sql }),
    ...createMailActivities(mail),
    ...heartbeatingWhileRunning(createBisectActivities({ ...mail, mirrorDir, store })),
    ...createRetentionActivities({ sql, store, outboxDir: config.email.outbox }),
  };
}

/**
 * Labs that run no worker: their boots wait in lab_jobs for the lab's post
 * (activities/labs/api.ts), one queue per platform like any lab's.
 */
export function createApiLabWorkers(deps: OrchestratorDeps): Promise<Worker[]> {
  return Promise.all(
    deps.config.labs
      .filter((l) => l.adapter === 'api')
      .flatMap((l) =>
        l.platforms.map((p) =>
          Worker.create({
            connection: deps.connection,
            namespace: deps.namespace,
            taskQueue: taskQueues.labPlatform(l.name, p.name),
            activities: createApiLabActivities({ sql: deps.sql }),
            maxConcurrentActivityTaskExecutions: 100,
          }),
        ),
      ),
  );
}

/**
 * Workflows and orchestration activities on the `bootfarm` queue, in one
 * worker: the pipeline records results and checks labs through local
 * activities, which run on the worker that runs the workflow.
 */
export async function createOrchestratorWorker(
  deps: OrchestratorDeps,
  source: WorkflowSource,
  taskQueue = taskQueues.orchestrator,
  tuning: OrchestratorTuning = ORCHESTRATOR_TUNING,
): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue,
    activities: orchestratorActivities(deps),
    ...(deps.activityInterceptors?.length ? { interceptors: { activity: deps.activityInterceptors } } : {}),
    ...tuning,
    ...source,
  });
}
