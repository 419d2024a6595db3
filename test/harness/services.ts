/**
 * What a test file uses to reach the run's real services: its own database
 * (migrated), a Temporal client, and workers built from the run's bundle.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { listMigrations, migrate } from '../../plumbing/db/migrate';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/searchAttributes';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through jest's globalSetup (npm test)`);
  return v;
}

export const temporalAddress = () => env('BF_TEST_TEMPORAL_ADDRESS');
export const workflowBundlePath = () => env('BF_TEST_WORKFLOW_BUNDLE');
export const testDir = () => env('BF_TEST_DIR');

/** A unique suffix for task queues, ids and database names of one test. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  sql: Sql;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own on the run's PostgreSQL (migrations up to `upTo` only, when given). */
export async function freshDatabase(opts: { upTo?: number } = {}): Promise<TestDatabase> {
  const base = env('BF_TEST_DATABASE_URL');
  const name = uniqueId('bf_');
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = base.replace(/\/[^/]+$/, `/${name}`);
  const sql = postgres(url, { max: 10, onnotice: () => {}, transform: { undefined: null } });
  const { upTo } = opts;
  await migrate(sql, upTo === undefined ? listMigrations() : listMigrations().filter((m) => m.version <= upTo));
  return {
    sql,
    url,
    async drop() {
      await sql.end({ timeout: 5 });
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export async function temporalClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/** A worker on the run's dev server using the run's workflow bundle. */
export async function testWorker(
  opts: Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'>,
): Promise<{ worker: Worker; close(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await Worker.create({ ...opts, connection, workflowBundle: { codePath: workflowBundlePath() } });
  return { worker, close: () => connection.close() };
}

/**
 * A Temporal namespace of its own on the run's dev server, with Bootfarm's
 * search attributes: a test that runs the workers as deployed (production
 * task queue names) shares no queue with any other test.
 */
export async function freshNamespace(connection: Connection, prefix: string): Promise<string> {
  const namespace = uniqueId(prefix);
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTE_NAMES.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return namespace;
}

/**
 * The part of a bootfarm.yaml that points a deployment at the run's services, its files under `dir`.
 * Metrics endpoints are off: a test's processes share one host, and each would take the default ports.
 */
export function servicesYaml(dir: string, namespace: string, databaseUrl?: string): string {
  const q = JSON.stringify;
  return `
dataDir: ${q(join(dir, 'data'))}
temporal: { address: ${q(temporalAddress())}, namespace: ${namespace} }
${databaseUrl ? `database: { url: ${q(databaseUrl)} }` : ''}
artifacts: { kind: dir, path: ${q(join(dir, 'artifacts'))} }
email: { outbox: ${q(join(dir, 'outbox'))} }
builder: { workDir: ${q(join(dir, 'builder'))}, ccache: false, jobs: 2 }
metrics: { port: 0, temporalPort: 0 }
`;
}
