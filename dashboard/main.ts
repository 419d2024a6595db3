import { resolve } from 'node:path';
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../domain/config';
import type { ArtifactStore } from '../plumbing/store/types';
import { createStore } from '../plumbing/store';
import { connectDb } from '../plumbing/db/connect';
import { databaseUrl } from '../plumbing/temporal/connections';
import { createDashboard, type Dashboard } from './server';
import type { CancelBisection, DashboardOptions, StartBisection, StartRevision } from './deps';
import type { LabWorkerControl } from '../domain/labWorker';
import { tryStarter } from '../plumbing/temporal/tryRuns';

export { createDashboard } from './server';
export type { Dashboard, DashboardOptions } from './server';

export interface RunDashboardDeps {
  /** default: a pool on config.database.url (or DATABASE_URL) */
  sql?: Sql;
  /** default: the store config.artifacts names */
  store?: ArtifactStore;
  client?: Client;
  startRevision?: StartRevision;
  startBisection?: StartBisection;
  cancelBisection?: CancelBisection;
  /** the lab workers this process runs (the embedded stack) */
  labWorkers?: LabWorkerControl;
  /** default: config.dashboard.host (127.0.0.1) */
  host?: string;
  /** relative paths of the config are taken from here (default: the cwd) */
  baseDir?: string;
  logError?: DashboardOptions['logError'];
  unavailable?: DashboardOptions['unavailable'];
}

/** Where the dashboard's workflow links go: the configured Web UI, else the embedded one on uiPort. */
export function temporalUiUrl(config: BootfarmConfig): string {
  return (config.temporal.uiUrl ?? `http://127.0.0.1:${config.temporal.uiPort}`).replace(/\/+$/, '');
}

/**
 * The dashboard as `bootfarm up` or `bootfarm dashboard` runs it: on
 * config.dashboard.host and port, linking to the Temporal Web UI at
 * temporal.uiUrl (TEMPORAL_UI_URL), listing the outbox directory
 * config.email.outbox. Settings come from the config, the environment
 * already applied to it (plumbing/loadConfig.ts).
 */
export async function runDashboard(
  config: BootfarmConfig,
  deps: RunDashboardDeps = {},
): Promise<Dashboard & { url: string; stop(graceMs?: number): Promise<void> }> {
  const baseDir = deps.baseDir ?? process.cwd();
  const sql = deps.sql ?? (await connectDb(databaseUrl(config)));
  const store = deps.store ?? (await createStore(config.artifacts, baseDir));
  const dashboard = createDashboard({
    sql,
    store,
    temporalUiUrl: temporalUiUrl(config),
    temporalNamespace: config.temporal.namespace,
    adminToken: config.dashboard.adminToken,
    outboxDir: resolve(baseDir, config.email.outbox),
    publicUrl: config.dashboard.publicUrl,
    allowedHosts: config.dashboard.allowedHosts,
    client: deps.client,
    startRevision: deps.startRevision,
    startBisection: deps.startBisection,
    cancelBisection: deps.cancelBisection,
    labWorkers: deps.labWorkers,
    logError: deps.logError,
    unavailable: deps.unavailable,
    // `bootfarm try` needs a Temporal client to start its workflow
    ...(deps.client ? { startTry: tryStarter({ client: deps.client, config, store, sql }) } : {}),
    tryLimits: config.try,
  });
  const { url } = await dashboard.listen(config.dashboard.port, deps.host ?? config.dashboard.host);
  return {
    ...dashboard,
    url,
    async stop(graceMs = 0) {
      await dashboard.close(graceMs);
      if (!deps.sql) await sql.end({ timeout: 5 });
      if (!deps.store) store.close?.();
    },
  };
}
