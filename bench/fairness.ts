/**
 * bench/fairness: several trees push at once into one lab with one board,
 * on the embedded stack (real Temporal dev server, real PostgreSQL, the real
 * orchestrator worker and revision pipelines), with instant builds and a
 * board that takes `--boot-ms` per boot, so what is measured is how the
 * board is shared. Run once per way of dispatching task queues:
 *
 *   fair            Bootfarm's setting: priority, then fairness by tree
 *                   (matching.enableFairness, one write partition)
 *   fifo            one write partition, no fairness: first come, first served
 *   server-default  the server's defaults: four partitions, no fairness
 *
 *   npx tsx bench/fairness.ts [--trees 4] [--configs 8] [--boot-ms 250]
 *                             [--shares 1,1,1,1] [--queues fair,fifo,server-default]
 *                             [--address HOST:PORT]
 *
 * --address runs once against a server already running there (a real
 * cluster; its dynamic config decides the dispatch). Per mode it prints,
 * per tree, the wait for its first boot result and for its whole revision
 * (seconds from the push), the spread of first-result waits between trees,
 * the board's order (one letter per tree), the mean run of consecutive boots
 * of one tree, each tree's boots in the first half of the board's work
 * (against its share), and a confirmation boot (priority `verdict`) started
 * once the board has a backlog: its wait and the routine boots it overtook.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import postgres from 'postgres';
import { parseConfig } from '../plumbing/loadConfig';
import { connectDb } from '../plumbing/db/connect';
import { migrate } from '../plumbing/db/migrate';
import { DirStore } from '../plumbing/store/dirStore';
import { createConfigActivities } from '../activities/pipeline/configRecords';
import { createOrchestratorWorker } from '../workers/orchestrator';
import { createLabWorkers } from '../workers/lab';
import { startRevision } from '../plumbing/temporal/schedules';
import { bootTargets, pipelineSpecFor } from '../domain/pipelineSpec';
import { boardPriority } from '../domain/boardPriority';
import { taskQueues } from '../domain/ids';
import type { BootRequest, BuildBootInput } from '../domain/types';
import { createFixtureRepo, headSha } from '../fixtures/generator';
import { startTemporal, type QueueDispatch } from '../stack/temporalServer';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';
import { BenchAdapter } from './support/instantLab';
import { instantBuildActivities } from './support/instantBuilder';

const BUNDLE_SCRIPT = `
const { bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') })
  .then((b) => require('node:fs').writeFileSync(process.argv[1], b.code));`;

const { values } = parseArgs({
  options: {
    trees: { type: 'string', default: '4' },
    configs: { type: 'string', default: '8' },
    'boot-ms': { type: 'string', default: '250' },
    shares: { type: 'string' },
    queues: { type: 'string', default: 'fair,fifo,server-default' },
    address: { type: 'string' },
  },
});
const nTrees = Number(values.trees);
const nConfigs = Number(values.configs);
const bootMs = Number(values['boot-ms']);
const shares = values.shares ? values.shares.split(',').map(Number) : Array<number>(nTrees).fill(1);
if (shares.length !== nTrees) throw new Error(`--shares: ${nTrees} shares wanted, one per tree`);
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function configYaml(repoUrl: string, run: string): string {
  const configs = Array.from({ length: nConfigs }, (_, i) => `c${i}`);
  return [
    'trees:',
    ...shares.map((share, i) =>
      [
        `  - name: ${run}-${LETTERS[i]}`,
        `    url: ${repoUrl}`,
        '    branches: [master]',
        `    buildConfigs: [${configs.join(', ')}]`,
        `    concurrency: ${nConfigs}`,
        '    confirmations: 0',
        '    report: { delay: 1h }',
        '    bisect: { enabled: false }',
        `    share: ${share}`,
      ].join('\n'),
    ),
    'buildConfigs:',
    ...configs.map((c) => `  - { name: ${c}, arch: x86_64, defconfig: defconfig }`),
    'platforms:',
    '  - { name: board, arch: x86_64 }',
    'labs:',
    `  - { name: ${run}-farm, adapter: bench, platforms: [{ name: board, capacity: 1 }], scheduleToStartTimeout: 10m }`,
  ].join('\n');
}

interface Taken {
  at: number;
  tree: string;
  verdict: boolean;
}

async function measure(address: string, mode: string, dir: string, sqlUrl: string, bundlePath: string) {
  const run = `f${Date.now().toString(36)}`;
  const repo = await createFixtureRepo(join(dir, `tree-${run}`));
  const config = parseConfig(configYaml(repo.url, run));
  config.dataDir = join(dir, run);
  config.email.outbox = join(dir, run, 'outbox');
  const store = new DirStore(join(dir, run, 'artifacts'));
  const sql = await connectDb(sqlUrl, { max: 20 });
  await createConfigActivities({ sql }).syncConfig(config);
  const connection = await NativeConnection.connect({ address });
  const clientConn = await Connection.connect({ address });
  const client = new Client({ connection: clientConn });
  const deps = { config, connection, namespace: 'default', store };
  const taken: Taken[] = [];
  const lab = `${run}-farm`;
  const workers = [
    await createOrchestratorWorker({ ...deps, sql, client }, { workflowBundle: { codePath: bundlePath } }),
    await Worker.create({
      connection,
      taskQueue: taskQueues.build(),
      activities: instantBuildActivities(store),
      maxConcurrentActivityTaskExecutions: 200,
    }),
    ...(await createLabWorkers(deps, lab, {
      adapters: {
        bench: new BenchAdapter({
          bootMs,
          onBoot: (req: BootRequest) =>
            taken.push({ at: Date.now(), tree: req.tree, verdict: req.bootKey.startsWith('verdict:') }),
        }),
      },
    })),
  ];
  const running = workers.map((w) => w.run());
  await new Promise((r) => setTimeout(r, 1500)); // the board's worker polls once: the check before dispatch sees it
  try {
    const sha = await headSha(repo);
    const trees = config.trees.map((t) => t.name);
    const t0 = Date.now();
    const done = new Map<string, number>();
    const revisions = trees.map(async (tree) => {
      const { workflowId } = await startRevision(client, { ...pipelineSpecFor(config, tree, 'master'), sha });
      await client.workflow.getHandle(workflowId).result();
      done.set(tree, Date.now() - t0);
    });
    // once the board has a backlog, one boot whose verdict someone waits for (a confirmation's priority)
    while (taken.length < Math.max(2, Math.floor((nTrees * nConfigs) / 4))) await new Promise((r) => setTimeout(r, 20));
    const spec = pipelineSpecFor(config, trees[0], 'master');
    const verdictInput: BuildBootInput = {
      tree: trees[0],
      branch: 'master',
      url: spec.url,
      sha,
      describe: 'verdict',
      config: { ...spec.buildConfigs[0], name: 'verdict' },
      targets: bootTargets(spec, spec.buildConfigs[0]),
      bootPriority: boardPriority('verdict', trees[0], spec.share),
    };
    const verdictQueued = Date.now();
    const takenBefore = taken.length;
    const verdict = client.workflow.execute('buildBoot', {
      taskQueue: taskQueues.orchestrator,
      workflowId: `verdict:${run}`,
      args: [verdictInput],
    });
    await Promise.all([...revisions, verdict]);

    const routine = taken.filter((t) => !t.verdict);
    const v = taken.findIndex((t) => t.verdict);
    const firstResult = new Map(trees.map((t) => [t, routine.find((x) => x.tree === t)!.at + bootMs - t0]));
    const waits = trees.map((t) => firstResult.get(t)!);
    const order = routine.map((t) => LETTERS[trees.indexOf(t.tree)]).join('');
    const runs = order.match(/(.)\1*/g) ?? [];
    const firstHalf = routine.slice(0, Math.floor(routine.length / 2));
    return {
      mode,
      perTree: Object.fromEntries(
        trees.map((t, i) => [
          LETTERS[i],
          {
            share: shares[i],
            firstResultS: +(firstResult.get(t)! / 1000).toFixed(2),
            revisionDoneS: +(done.get(t)! / 1000).toFixed(2),
            bootsInFirstHalf: firstHalf.filter((x) => x.tree === t).length,
          },
        ]),
      ),
      firstResultSpreadS: +((Math.max(...waits) - Math.min(...waits)) / 1000).toFixed(2),
      boardOrder: order,
      meanRun: +(order.length / runs.length).toFixed(2),
      verdictBoot: {
        waitS: +((taken[v].at - verdictQueued) / 1000).toFixed(2),
        routineBootsQueuedThenTakenFirst: v - takenBefore,
        routineBootsItOvertook: taken.slice(v + 1).filter((t) => !t.verdict).length,
      },
    };
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await sql.end({ timeout: 5 });
    await clientConn.close();
    await connection.close();
  }
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'bench-fairness-'));
  chmodSync(dir, 0o755);
  const pg = await startPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), logFile: join(dir, 'pg.log') });
  const bundlePath = join(dir, 'workflows.js');
  execFileSync(process.execPath, ['-r', 'tsx/cjs', '-e', BUNDLE_SCRIPT, bundlePath], {
    stdio: 'inherit',
    cwd: join(__dirname, '..'),
  });
  const modes: { mode: string; queues?: QueueDispatch }[] = values.address
    ? [{ mode: `server at ${values.address}` }]
    : values.queues.split(',').map((q) => ({ mode: q, queues: q as QueueDispatch }));
  try {
    for (const [i, m] of modes.entries()) {
      // a database per mode, so each starts empty
      const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database fair${i}`);
      await admin.end();
      const sqlUrl = pg.url.replace(/\/[^/]+$/, `/fair${i}`);
      const migrator = await connectDb(sqlUrl);
      await migrate(migrator);
      await migrator.end();
      const server = m.queues
        ? await startTemporal({
            port: await freePort(),
            logFile: join(dir, `temporal-${m.mode}.log`),
            headless: true,
            queues: m.queues,
          })
        : undefined;
      try {
        process.stderr.write(`bench/fairness: ${m.mode}: ${nTrees} trees × ${nConfigs} boots of ${bootMs} ms…\n`);
        const figures = await measure(server?.address ?? values.address!, m.mode, dir, sqlUrl, bundlePath);
        process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      } finally {
        await server?.stop();
      }
    }
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
