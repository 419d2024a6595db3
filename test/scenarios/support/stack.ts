/**
 * The real stack for a scenario, on the run's shared services (the Temporal
 * dev server and PostgreSQL of test/harness): its own database, the
 * production orchestrator worker on the run's workflow bundle, real builders
 * (make and gcc on the fixture kernel tree), the embedded stack's lab
 * workers (one per platform, real adapters: QEMU, shell), and the dashboard
 * with its REST API. Every queue carries a prefix of the scenario's own, so
 * scenarios running at once never take each other's tasks.
 *
 * A scenario talks to it from outside, as a user would: `api()` for the REST
 * API (the admin token is set), `client` for what only Temporal can tell.
 * `stop()` drains the workers, terminates what the scenario left running,
 * and drops the database, also after a failed test.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { BootfarmConfig } from '../../../domain/config';
import type { RevisionReport } from '../../../domain/revisionReport';
import { parseConfig } from '../../../plumbing/loadConfig';
import { DirStore } from '../../../plumbing/store/dirStore';
import { labAdmin } from '../../../plumbing/db/labAdmin';
import { triggerBisection, triggerRevision } from '../../../plumbing/temporal/triggers';
import { createConfigActivities } from '../../../activities/pipeline/configRecords';
import { createDashboard, type Dashboard } from '../../../dashboard/server';
import { createOrchestratorWorker } from '../../../workers/orchestrator';
import { createBuilderWorkers } from '../../../workers/builder';
import { InProcessLabWorkers } from '../../../workers/labWorkers';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  uniqueId,
  workflowBundlePath,
  type TestDatabase,
} from '../../harness/services';

export const ADMIN_TOKEN = 'scenario-admin-token';

export interface ScenarioStack {
  config: BootfarmConfig;
  /** the scenario's own directory (data, artifacts, outbox, lab programs) */
  dir: string;
  sql: Sql;
  client: Client;
  /** prepended to every task queue of this scenario */
  prefix: string;
  labs: InProcessLabWorkers;
  /** the REST API: JSON in, status and JSON out; operator calls carry the admin token */
  api<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** POST /api/revisions, then the revision's report once its workflow has ended */
  runRevision(tree: string, commit: string, branch?: string): Promise<RevisionReport>;
  stop(): Promise<void>;
}

export interface ScenarioOptions {
  /** the config's trees, build configs, platforms and labs (YAML); dataDir, dashboard and mail are filled in */
  config: (dir: string) => string;
  /** builds at once (default 2: the machine's two cores) */
  builds?: number;
}

/** The whole stack, ready: config recorded, workers polling, dashboard listening. */
export async function startScenarioStack(opts: ScenarioOptions): Promise<ScenarioStack> {
  const dir = join(testDir(), uniqueId('scenario-'));
  await mkdir(dir, { recursive: true });
  const config = parseConfig(
    `dataDir: ${dir}\n` +
      `email: { outbox: ${join(dir, 'outbox')} }\n` +
      `dashboard: { adminToken: ${ADMIN_TOKEN} }\n` +
      `builder: { workDir: ${join(dir, 'builder')}, ccache: false }\n` +
      opts.config(dir),
  );
  const prefix = `${uniqueId('sc')}-`;
  const routing = { taskQueue: `${prefix}bootfarm`, taskQueuePrefix: prefix };
  const cleanup: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch((e) => console.error('scenario cleanup:', e));
  };
  try {
    const db: TestDatabase = await freshDatabase();
    cleanup.push(() => db.drop());
    const { client, close } = await temporalClient();
    cleanup.push(close);
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    cleanup.push(() => connection.close());
    const store = new DirStore(join(dir, 'artifacts'));
    await createConfigActivities({ sql: db.sql }).syncConfig(config);
    const deps = { config, connection, namespace: 'default', store };

    const workers: Worker[] = [
      await createOrchestratorWorker(
        { ...deps, sql: db.sql, client },
        { workflowBundle: { codePath: workflowBundlePath() } },
        routing.taskQueue,
      ),
      ...(await createBuilderWorkers(deps, { maxConcurrent: opts.builds ?? 2, taskQueuePrefix: prefix })),
    ];
    const running = workers.map((w) => w.run());
    cleanup.push(async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running);
    });
    const labs = new InProcessLabWorkers(
      deps,
      config.labs.filter((l) => l.adapter === 'qemu' || l.adapter === 'shell').map((l) => l.name),
      {
        taskQueuePrefix: prefix,
        record: {
          stopped: (lab, at, platform) => labAdmin(db.sql).workerStopped(lab, at, platform),
          started: (lab, platform) => labAdmin(db.sql).workerStarted(lab, platform),
        },
      },
    );
    await labs.startAll();
    cleanup.push(() => labs.stopAll());
    // what the scenario left running (reports waiting out their delay, a revision of a failed test)
    cleanup.push(() => terminateScenarioWorkflows(client, config));

    const dashboard: Dashboard = createDashboard({
      sql: db.sql,
      store,
      client,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      adminToken: ADMIN_TOKEN,
      labWorkers: labs,
      startRevision: async (tree, branch, commit, force) =>
        triggerRevision(client, config, { tree, branch, commit, force }, routing),
      startBisection: (req) => triggerBisection(client, config, req, routing),
    });
    const base = (await dashboard.listen(0)).url;
    cleanup.push(() => dashboard.close());

    const api = async <T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as T };
    };

    return {
      config,
      dir,
      sql: db.sql,
      client,
      prefix,
      labs,
      api,
      async runRevision(tree, commit, branch = 'master') {
        const started = await api<{ workflowId: string }>('POST', '/api/revisions', { tree, branch, commit });
        if (started.status !== 202)
          throw new Error(`POST /api/revisions: ${started.status} ${JSON.stringify(started.json)}`);
        return (await client.workflow.getHandle(started.json.workflowId).result()) as RevisionReport;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Terminates the running workflows of the scenario's trees (their ids and search attributes name the tree). */
async function terminateScenarioWorkflows(client: Client, config: BootfarmConfig): Promise<void> {
  for (const tree of config.trees) {
    for await (const wf of client.workflow.list({ query: `BfTree = '${tree.name}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow
        .getHandle(wf.workflowId, wf.runId)
        .terminate('scenario over')
        .catch(() => undefined);
    }
  }
}
