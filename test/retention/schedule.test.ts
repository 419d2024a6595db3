/**
 * The retention Schedule as `bootfarm up` makes it, on the run's Temporal
 * dev server (a namespace of its own) and PostgreSQL: the start-up path
 * creates one schedule running the `retention` workflow with the configured
 * policy; a second start updates it in place (no duplicate, an operator's
 * pause kept); its runs sweep through the orchestrator's activities, a dry
 * run removing nothing. Costs two starts of the embedded app (~40 s, most of
 * it bundling the workflow code).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { retentionInputFor, RETENTION_SCHEDULE_ID, type RetentionReport } from '../../domain/retention';
import { taskQueues } from '../../domain/ids';
import { loadConfig } from '../../plumbing/loadConfig';
import { createStore, type ArtifactStore } from '../../plumbing/store';
import { freePort } from '../../stack/ports';
import { startEmbeddedApp, type EmbeddedApp } from '../../workers/embeddedApp';
import { fakeSha, recordRevision, type History } from '../../bench/support/history';
import { keepHistory } from '../replay/record';
import {
  freshDatabase,
  freshNamespace,
  servicesYaml,
  temporalAddress,
  testDir,
  type TestDatabase,
} from '../harness/services';

const DAY = 86_400_000;

let connection: Connection;
let client: Client;
let db: TestDatabase;
let dir: string;
let namespace: string;
let store: ArtifactStore;

beforeAll(async () => {
  connection = await Connection.connect({ address: temporalAddress() });
  namespace = await freshNamespace(connection, 'retention-');
  client = new Client({ connection, namespace });
  db = await freshDatabase();
  dir = mkdtempSync(join(testDir(), 'retention-up-'));
  store = await createStore({ kind: 'dir', path: join(dir, 'artifacts') });
});

afterAll(async () => {
  await client?.schedule
    .getHandle(RETENTION_SCHEDULE_ID)
    .delete()
    .catch(() => {});
  await db?.drop();
  await connection?.close();
});

async function configWith(retention: string) {
  const file = join(dir, 'bootfarm.yaml');
  writeFileSync(
    file,
    `${servicesYaml(dir, namespace, db.url)}dashboard: { port: ${await freePort()} }\nretention: ${retention}\n`,
  );
  return loadConfig(file);
}

async function up(retention: string): Promise<{ app: EmbeddedApp; config: Awaited<ReturnType<typeof configWith>> }> {
  const config = await configWith(retention);
  return { app: await startEmbeddedApp(config, { demo: false, realLinux: false }), config };
}

async function schedulesOf(): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) ids.push(s.scheduleId);
  return ids.sort();
}

async function finishedRuns(): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = 'retention' AND ExecutionStatus = 'Completed'` }))
    ids.push(w.workflowId);
  return ids;
}

describe("the retention schedule of bootfarm up's start-up path", () => {
  it('is created once with the configured policy, updated in place by a second start, and its runs sweep', async () => {
    const first = await up('{ every: 12h, dryRun: true, keepRevisions: 1, buildArtifacts: 30d }');
    let handle = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    try {
      const described = await handle.describe();
      expect(described.action).toMatchObject({ workflowType: 'retention', taskQueue: taskQueues.orchestrator });
      expect(described.action.type === 'startWorkflow' && described.action.args).toEqual([
        retentionInputFor(first.config.retention),
      ]);
      expect(described.spec.intervals?.[0].every).toBe(12 * 3_600_000);
      expect(described.policies.overlap).toBe('SKIP');
      // a first start deletes nothing: the first run waits one interval
      expect(described.info.recentActions).toEqual([]);

      // One old revision beyond the newest one: its artifacts are past 30 days.
      const h: History = { sql: db.sql, store, outboxDir: first.config.email.outbox };
      const old = await recordRevision(h, {
        tree: 't',
        branch: 'master',
        sha: fakeSha('old'),
        at: new Date(Date.now() - 40 * DAY),
        configs: ['c1'],
        platforms: ['p1'],
        lab: 'l',
      });
      await recordRevision(h, {
        tree: 't',
        branch: 'master',
        sha: fakeSha('new'),
        at: new Date(Date.now() - 35 * DAY),
        configs: ['c1'],
        platforms: ['p1'],
        lab: 'l',
      });
      const kernel = old[0].keys.artifacts[0];

      // The schedule's run is a dry run, as configured: it reports the kernel and removes nothing.
      await handle.trigger();
      await eventually(async () => (await finishedRuns()).length === 1);
      const [dryRunId] = await finishedRuns();
      const dry = (await client.workflow.getHandle(dryRunId).result()) as RetentionReport;
      expect(dry.dryRun).toBe(true);
      expect(dry.kinds.find((k) => k.kind === 'buildArtifacts')).toMatchObject({ rows: 1, objects: 3, more: false });
      expect(dry.kinds.find((k) => k.kind === 'buildArtifacts')?.sample).toContain(kernel);
      expect(await store.exists(kernel)).toBe(true);
      await keepHistory('retention-dry-run', client.workflow.getHandle(dryRunId));

      // An operator pauses it; the next start changes the policy: still one schedule, still paused.
      await handle.pause('while we look at the dry run');
      await first.app.stop();
      const second = await up('{ every: 6h, keepRevisions: 1, buildArtifacts: 30d }');
      try {
        expect(await schedulesOf()).toEqual([RETENTION_SCHEDULE_ID]);
        handle = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
        const again = await handle.describe();
        expect(again.spec.intervals?.[0].every).toBe(6 * 3_600_000);
        expect(again.state).toMatchObject({ paused: true, note: 'while we look at the dry run' });
        expect(again.action.type === 'startWorkflow' && (again.action.args?.[0] as { dryRun: boolean }).dryRun).toBe(
          false,
        );

        // A real run, as the schedule would start it: the kernel goes, the newest revision's stays.
        const run = await client.workflow.start('retention', {
          taskQueue: taskQueues.orchestrator,
          workflowId: `retention-by-hand-${Date.now()}`,
          args: [retentionInputFor(second.config.retention)],
        });
        const report = (await run.result()) as RetentionReport;
        expect(report.kinds.find((k) => k.kind === 'buildArtifacts')).toMatchObject({ rows: 1, objects: 3 });
        expect(await store.exists(kernel)).toBe(false);
        expect(await store.exists(old[0].keys.log)).toBe(true); // build logs live 180 days
        const [mark] =
          await db.sql`select artifacts_expired_at is not null as expired from builds where id = ${old[0].id}`;
        expect(mark.expired).toBe(true);
        await keepHistory('retention-swept', run);
      } finally {
        await second.app.stop();
      }
    } finally {
      await first.app.stop().catch(() => {});
    }
  });
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 500));
  }
}
