/**
 * One deployment for a scenario, on the run's Temporal dev server and
 * PostgreSQL: a Temporal namespace and a database of its own, a fixture
 * kernel tree, the real orchestrator, builder and lab workers as `bootfarm
 * up` builds them (lab boards may be wrapped, see boards.ts), the
 * dashboard's REST API, and an outbox for the mails. A scenario drives it as
 * a maintainer would: it pushes commits to the tree, triggers revisions, and
 * reads the mails and the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { BootfarmConfig } from '../../../domain/config';
import { taskQueues } from '../../../domain/ids';
import { createFixtureRepo, headSha, type FixtureRepo } from '../../../fixtures/generator';
import type { LabAdapter } from '../../../activities/labs/adapter';
import { loadConfig } from '../../../plumbing/loadConfig';
import { createStore } from '../../../plumbing/store';
import { triggerRevision } from '../../../plumbing/temporal/triggers';
import { createBuilderWorkers } from '../../../workers/builder';
import { createLabWorker } from '../../../workers/lab';
import { createOrchestratorWorker } from '../../../workers/orchestrator';
import { createDashboard } from '../../../dashboard/server';
import { freePort } from '../../../stack/ports';
import {
  freshDatabase,
  freshNamespace,
  servicesYaml,
  temporalAddress,
  workflowBundlePath,
  type TestDatabase,
} from '../../harness/services';

/** A mail's text with its 80-column wrapping undone, to match sentences that a line break may split. */
export const prose = (text: string) => text.replace(/\s+/g, ' ');

export interface ScenarioOptions {
  /** the tree's name; branch master of a fixture repository made for it, one build config (x86_64-defconfig) */
  tree: string;
  /** the labs, each with this many boards of the one platform, qemu-x86_64 */
  labs: Record<string, number>;
  /** the tree's bisect.verifyRuns */
  verifyRuns?: number;
  /** a lab's board, replacing the plain QEMU adapter of that lab */
  boards?: Record<string, LabAdapter>;
}

/** The tree, its one build config, one platform, and the labs; the list gets the mails. */
function fleetYaml(opts: ScenarioOptions, url: string): string {
  return `
trees:
  - name: ${opts.tree}
    url: ${JSON.stringify(url)}
    branches: [master]
    buildConfigs: [x86_64-defconfig]
    report: { to: [list@lists.example.org], from: 'Bootfarm <bot@example.org>', textOnly: true }
    bisect: { verifyRuns: ${opts.verifyRuns ?? 2} }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, bootTimeout: 60s }
labs:
${Object.entries(opts.labs)
  .map(
    ([lab, boards]) => `  - { name: ${lab}, adapter: qemu, platforms: [{ name: qemu-x86_64, capacity: ${boards} }] }`,
  )
  .join('\n')}
`;
}

export interface RevisionRun {
  workflowId: string;
  sha: string;
  /** the text part of the revision's boot report, as mailed */
  bootReport: string;
}

export interface ScenarioStack {
  dir: string;
  /** the tree's fixture repository, and its first commit */
  repo: FixtureRepo;
  base: string;
  config: BootfarmConfig;
  client: Client;
  db: TestDatabase;
  /** GET a path of the dashboard's REST API (`/api/...`), as JSON */
  api<T = unknown>(path: string): Promise<T>;
  /** GET a dashboard page, as HTML */
  page(path: string): Promise<string>;
  /** test one commit of tree/branch end to end: wait for the pipeline and its boot report */
  runRevision(tree: string, branch: string, sha: string): Promise<RevisionRun>;
  /** wait for every bisection workflow of the namespace to end */
  bisectionsDone(): Promise<void>;
  stop(): Promise<void>;
}

export async function startScenarioStack(opts: ScenarioOptions): Promise<ScenarioStack> {
  const dir = mkdtempSync(join(tmpdir(), 'bf-scenario-'));
  const repo = await createFixtureRepo(join(dir, 'tree'));
  const db = await freshDatabase();
  const connection = await Connection.connect({ address: temporalAddress() });
  const namespace = await freshNamespace(connection, 'scenario-');
  const client = new Client({ connection, namespace });
  const file = join(dir, 'bootfarm.yaml');
  writeFileSync(file, `${servicesYaml(dir, namespace, db.url)}${fleetYaml(opts, repo.url)}`);
  const config = loadConfig(file);
  const store = await createStore(config.artifacts);
  const workerConnection = await NativeConnection.connect({ address: temporalAddress() });
  const deps = { config, connection: workerConnection, namespace, store };
  const workers: Worker[] = [
    await createOrchestratorWorker(
      { ...deps, sql: db.sql, client },
      { workflowBundle: { codePath: workflowBundlePath() } },
    ),
    ...(await createBuilderWorkers(deps)),
    ...(await Promise.all(
      config.labs.map((lab) =>
        createLabWorker(deps, lab.name, opts.boards?.[lab.name] ? { adapters: { qemu: opts.boards[lab.name] } } : {}),
      ),
    )),
  ];
  const running = workers.map((w) => w.run());
  const dashboard = createDashboard({
    sql: db.sql,
    store,
    temporalUiUrl: 'http://127.0.0.1:1',
    temporalNamespace: namespace,
    outboxDir: config.email.outbox,
  });
  const { url } = await dashboard.listen(await freePort(), '127.0.0.1');
  await client.workflow.execute('syncConfig', {
    taskQueue: taskQueues.orchestrator,
    workflowId: 'config:sync',
    args: [{ trees: config.trees, platforms: config.platforms, labs: config.labs }],
  });

  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  const api = async <T>(path: string): Promise<T> => (await (await get(path)).json()) as T;

  /** The boot report of the revision, once the mailer has sent it (its reports row), read back from the outbox API. */
  async function bootReport(tree: string, branch: string, sha: string): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [row] = await db.sql<{ message_id: string }[]>`
        select message_id from reports where tree = ${tree} and branch = ${branch} and sha = ${sha} and kind = 'boot'
          and status = 'sent' order by id limit 1`;
      if (row) {
        const { items } = await api<{ items: { name: string; messageId: string }[] }>('/api/outbox');
        const entry = items.find((m) => m.messageId === row.message_id);
        if (entry) return (await api<{ text: string }>(`/api/outbox/${entry.name}`)).text;
      }
      if (Date.now() > deadline) throw new Error(`no boot report of ${tree}/${branch} ${sha} within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    dir,
    repo,
    base: await headSha(repo),
    config,
    client,
    db,
    api,
    page: async (path) => (await get(path)).text(),
    async runRevision(tree, branch, sha) {
      const { workflowId } = await triggerRevision(client, config, { tree, branch, commit: sha });
      await client.workflow.getHandle(workflowId).result();
      return { workflowId, sha, bootReport: await bootReport(tree, branch, sha) };
    },
    async bisectionsDone() {
      for await (const w of client.workflow.list({ query: `WorkflowType = 'bisect'` }))
        await client.workflow.getHandle(w.workflowId).result();
    },
    async stop() {
      await dashboard.close().catch(() => {});
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await workerConnection.close();
      await connection.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
