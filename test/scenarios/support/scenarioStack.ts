/**
 * One deployment for a scenario, on the run's Temporal dev server and
 * PostgreSQL: a Temporal namespace and a database of its own, a fixture
 * kernel tree, the real orchestrator, builder and lab workers as `bootfarm
 * up` builds them (one worker per platform of a lab, switchable like the
 * embedded stack's; lab boards may be wrapped, see boards.ts), the
 * dashboard's REST API with its operator endpoints, and an outbox for the
 * mails. A scenario drives it as a maintainer or an operator would: it
 * pushes commits to the tree, triggers revisions, and reads the mails and
 * the API.
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
import { InProcessLabWorkers } from '../../../workers/labWorkers';
import { createOrchestratorWorker } from '../../../workers/orchestrator';
import { labAdmin } from '../../../plumbing/db/labAdmin';
import { triggerBisection } from '../../../plumbing/temporal/triggers';
import type { RevisionReport } from '../../../domain/revisionReport';
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

/** The operator endpoints' token (POST /api/revisions, /api/labs/{lab}/worker …). */
export const ADMIN_TOKEN = 'scenario-admin-token';

export type ScenarioOptions = (
  | {
      /** the tree's name; branch master of a fixture repository made for it, one build config (x86_64-defconfig) */
      tree: string;
      /** the labs, each with this many boards of the one platform, qemu-x86_64 */
      labs: Record<string, number>;
      /** the tree's bisect.verifyRuns */
      verifyRuns?: number;
    }
  | {
      /**
       * A fleet of the scenario's own (trees, build configs, platforms, labs,
       * as YAML) on the fixture tree at `url`; `dir` is the scenario's
       * directory, for the labs' programs.
       */
      fleet: (url: string, dir: string) => string;
    }
) & {
  /** a lab's board, replacing the plain QEMU adapter of that lab */
  boards?: Record<string, LabAdapter>;
  /** builds at once (default 1, as a builder with make -j2 on this machine) */
  builds?: number;
};

/** The tree, its one build config, one platform, and the labs; the list gets the mails. */
function fleetYaml(opts: Extract<ScenarioOptions, { tree: string }>, url: string): string {
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
  /** the lab workers, one per platform of each lab, as `bootfarm lab stop|start` switches them */
  labs: InProcessLabWorkers;
  /** the tree's fixture repository, and its first commit */
  repo: FixtureRepo;
  base: string;
  config: BootfarmConfig;
  client: Client;
  db: TestDatabase;
  /** GET a path of the dashboard's REST API (`/api/...`), as JSON */
  api<T = unknown>(path: string): Promise<T>;
  /** POST JSON to the REST API with the admin token: status and JSON answer */
  post<T = unknown>(path: string, body: unknown): Promise<{ status: number; json: T }>;
  /** POST /api/revisions: the revision's workflow id, and its report once its pipeline has ended */
  pushRevision(
    tree: string,
    sha: string,
    branch?: string,
  ): Promise<{ workflowId: string; report: Promise<RevisionReport> }>;
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
  const fleet = 'fleet' in opts ? opts.fleet(repo.url, dir) : fleetYaml(opts, repo.url);
  writeFileSync(file, `${servicesYaml(dir, namespace, db.url)}${fleet}`);
  const config = loadConfig(file);
  const store = await createStore(config.artifacts);
  const workerConnection = await NativeConnection.connect({ address: temporalAddress() });
  const deps = { config, connection: workerConnection, namespace, store };
  const workers: Worker[] = [
    await createOrchestratorWorker(
      { ...deps, sql: db.sql, client },
      { workflowBundle: { codePath: workflowBundlePath() } },
    ),
    ...(await createBuilderWorkers(deps, { maxConcurrent: opts.builds })),
  ];
  const running = workers.map((w) => w.run());
  const labs = new InProcessLabWorkers(
    deps,
    config.labs.filter((l) => l.adapter !== 'api').map((l) => l.name),
    {
      adapters: Object.fromEntries(Object.entries(opts.boards ?? {}).map(([lab, board]) => [lab, { qemu: board }])),
      record: {
        stopped: (lab, at, platform) => labAdmin(db.sql).workerStopped(lab, at, platform),
        started: (lab, platform) => labAdmin(db.sql).workerStarted(lab, platform),
      },
    },
  );
  await labs.startAll();
  const dashboard = createDashboard({
    sql: db.sql,
    store,
    client,
    temporalUiUrl: 'http://127.0.0.1:1',
    temporalNamespace: namespace,
    outboxDir: config.email.outbox,
    adminToken: ADMIN_TOKEN,
    labWorkers: labs,
    startRevision: (tree, branch, commit, force) => triggerRevision(client, config, { tree, branch, commit, force }),
    startBisection: (req) => triggerBisection(client, config, req),
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
  const post = async <T>(path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  };

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
    labs,
    config,
    client,
    db,
    api,
    post,
    async pushRevision(tree, sha, branch = 'master') {
      const started = await post<{ workflowId: string }>('/api/revisions', { tree, branch, commit: sha });
      if (started.status !== 202)
        throw new Error(`POST /api/revisions: ${started.status} ${JSON.stringify(started.json)}`);
      const { workflowId } = started.json;
      return { workflowId, report: client.workflow.getHandle(workflowId).result() as Promise<RevisionReport> };
    },
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
      await Promise.allSettled([...running, labs.stopAll()]);
      await workerConnection.close();
      await connection.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
