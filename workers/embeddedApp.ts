import type { Worker } from '@temporalio/worker';
import type { BootfarmConfig } from '../domain/config';
import { taskQueues } from '../domain/ids';
import { connectDb } from '../plumbing/db/connect';
import { labAdmin } from '../plumbing/db/labAdmin';
import { createStore } from '../plumbing/store';
import { ensureRetentionSchedule, ensureTreeSchedules } from '../plumbing/temporal/schedules';
import { runDashboard } from '../dashboard/main';
import { openClient, openWorkerConnection } from '../plumbing/temporal/connections';
import { operatorTriggers } from '../plumbing/temporal/triggers';
import { progress } from '../stack/progress';
import { runDemo } from '../stack/demoRun';
import { prepareRealLinuxDemo } from '../realLinux/demo';
import { mergeConfigSlice } from '../realLinux/config';
import { runRealLinuxDemo } from '../realLinux/demoRun';
import { createBuilderWorkers } from './builder';
import { InProcessLabWorkers } from './labWorkers';
import { createApiLabWorkers, createOrchestratorWorker } from './orchestrator';
import { WORKFLOWS_PATH, type WorkerDeps } from './options';
import { startWorkerMetrics } from './metrics';

/** Adapters a lab worker of the embedded stack can run here; `api` labs have no worker by design. */
const LOCAL_ADAPTERS = new Set(['qemu', 'shell', 'lava']);

export interface EmbeddedApp {
  /** true when the demo's pipelines and bisection ended as the story says */
  demoFinished: Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Everything of `bootfarm up` that runs inside this process once the
 * services are up: the three worker kinds, the dashboard, the config record,
 * the tree and retention schedules, and the demo.
 */
export async function startEmbeddedApp(
  base: BootfarmConfig,
  opts: { demo: boolean; realLinux: boolean },
): Promise<EmbeddedApp> {
  const p = progress();
  // The real-Linux demo adds its tree, configs and platforms before any worker starts.
  const realLinux = opts.realLinux
    ? await p.step('preparing the real-Linux tree and ramdisks (the first time imports linux-source: minutes)', () =>
        prepareRealLinuxDemo(base, base.dataDir, { log: (line) => p.info(`real-linux: ${line}`) }),
      )
    : undefined;
  const config = realLinux ? mergeConfigSlice(base, realLinux) : base;
  const connection = await openWorkerConnection(config);
  const { client, close: closeClient } = await openClient(config);
  const sql = await connectDb(config.database.url as string);
  const store = await createStore(config.artifacts);
  const deps: WorkerDeps = { config, connection, namespace: config.temporal.namespace, store };
  const metrics = await startWorkerMetrics({
    kind: 'embedded',
    config,
    orchestrator: { sql, client },
    log: (line) => p.info(line),
  });
  const orchestratorDeps = { ...deps, sql, client, activityInterceptors: metrics.activityInterceptors };

  const workers: Worker[] = [];
  workers.push(
    await p.step('bundling workflow code for the orchestrator worker', () =>
      createOrchestratorWorker(orchestratorDeps, { workflowsPath: WORKFLOWS_PATH }),
    ),
  );
  workers.push(...(await createApiLabWorkers(orchestratorDeps)));
  workers.push(...(await createBuilderWorkers(deps)));
  const running = workers.map((w) => w.run());
  // Lab workers an operator can stop and start again (POST /api/labs/<lab>/worker, `bootfarm lab stop|start`).
  const labWorkers = new InProcessLabWorkers(
    deps,
    config.labs.filter((l) => LOCAL_ADAPTERS.has(l.adapter)).map((l) => l.name),
    {
      record: {
        stopped: (lab, at, platform) => labAdmin(sql).workerStopped(lab, at, platform),
        started: (lab, platform) => labAdmin(sql).workerStarted(lab, platform),
      },
      log: (line) => p.info(line),
    },
  );
  await labWorkers.startAll();
  p.info(`workers polling: ${[...workers.map((w) => w.options.taskQueue), ...labWorkers.taskQueues()].join(', ')}`);

  const dashboard = await p.step(`starting the dashboard on :${config.dashboard.port}`, () =>
    runDashboard(config, {
      sql,
      store,
      client,
      ...operatorTriggers(client, config),
      labWorkers,
    }),
  );

  await p.step('recording the configured trees, platforms and labs (workflow syncConfig)', () =>
    client.workflow.execute('syncConfig', {
      taskQueue: taskQueues.orchestrator,
      workflowId: `config:sync:${new Date().toISOString()}`,
      args: [{ trees: config.trees, platforms: config.platforms, labs: config.labs }],
    }),
  );

  const retention = await ensureRetentionSchedule(client, config);
  p.info(
    `retention schedule ${retention} (every ${Math.round(config.retention.every / 60_000)}m${config.retention.dryRun ? ', dry run' : ''})`,
  );

  const fixtureDemo = opts.demo ? runDemo(client, config, p) : Promise.resolve(true);
  const demoFinished = realLinux
    ? fixtureDemo.then(async (ok) => (await runRealLinuxDemo(client, config, realLinux, p)) && ok)
    : fixtureDemo;
  if (!opts.demo) {
    const schedules = await ensureTreeSchedules(client, config);
    p.info(`tree schedules: ${[...schedules.created, ...schedules.updated].join(', ') || 'none'}`);
  }

  return {
    demoFinished,
    async stop() {
      await dashboard.stop().catch(() => {});
      await metrics.close();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled([...running, labWorkers.stopAll()]);
      await sql.end({ timeout: 5 });
      await closeClient();
      await connection.close();
    },
  };
}
