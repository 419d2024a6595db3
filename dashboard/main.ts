import { resolve } from 'node:path';
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig } from '../domain/config';
import type { ArtifactStore } from '../plumbing/store/types';
import { createStore } from '../plumbing/store';
import { connectDb } from '../plumbing/db/connect';
import { createDashboard, type Dashboard } from './server';
import type { CancelBisection, StartBisection, StartRevision } from './deps';
import type { LabWorkerControl } from '../domain/labWorker';

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
  /** default: 127.0.0.1 */
  host?: string;
  /** relative paths of the config are taken from here (default: the cwd) */
  baseDir?: string;
}

/**
 * The dashboard as `bootfarm up` or a deployment's dashboard process runs it:
 * on config.dashboard.port, linking to the Temporal UI on config.temporal.uiPort
 * (or TEMPORAL_UI_URL), listing the outbox directory config.email.outbox.
 */
export async function runDashboard(
  config: BootfarmConfig,
  deps: RunDashboardDeps = {},
): Promise<Dashboard & { url: string; stop(): Promise<void> }> {
  const baseDir = deps.baseDir ?? process.cwd();
  const databaseUrl =
    process.env.DATABASE_URL ?? config.database.url ?? `postgres://postgres@127.0.0.1:${config.database.port}/bootfarm`;
  const sql = deps.sql ?? (await connectDb(databaseUrl));
  const store = deps.store ?? (await createStore(config.artifacts, baseDir));
  const temporalUiUrl = process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${config.temporal.uiPort}`;
  const dashboard = createDashboard({
    sql,
    store,
    temporalUiUrl,
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? config.temporal.namespace,
    adminToken: process.env.BOOTFARM_ADMIN_TOKEN ?? config.dashboard.adminToken,
    outboxDir: resolve(baseDir, config.email.outbox),
    publicUrl: config.dashboard.publicUrl,
    client: deps.client,
    startRevision: deps.startRevision,
    startBisection: deps.startBisection,
    cancelBisection: deps.cancelBisection,
    labWorkers: deps.labWorkers,
  });
  const { url } = await dashboard.listen(config.dashboard.port, deps.host ?? '127.0.0.1');
  return {
    ...dashboard,
    url,
    async stop() {
      await dashboard.close();
      if (!deps.sql) await sql.end({ timeout: 5 });
      if (!deps.store) store.close?.();
    },
  };
}
