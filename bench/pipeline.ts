/**
 * bench/pipeline: one revision with 120 build configs × 4 platforms on the
 * embedded stack (real Temporal dev server, real PostgreSQL, the real
 * orchestrator worker and activities), with instant build and boot adapters,
 * so what is measured is Bootfarm's orchestration alone.
 *
 *   npx tsx bench/pipeline.ts [--configs 120] [--platforms 4] [--concurrency 120]
 *                             [--worker-options JSON] [--sqlite-file] [--keep]
 *                             [--queues fair|fifo|server-default]
 *
 * Prints the wall time of the revision and the load average around it, the
 * CPU seconds the workers, the Temporal server and PostgreSQL spent on it,
 * what one buildBoot costs in history (events, workflow tasks, local
 * activities), the per-activity orchestration overhead (scheduled →
 * completed of activities that do no work; median and p95) and peak memory
 * (the worker process sampled during the revision; the servers' high-water
 * marks). --worker-options overrides the orchestrator's tuning
 * (workers/options.ts) to measure alternatives; --sqlite-file keeps
 * Temporal's state in a SQLite file as `bootfarm up` does (default: in memory).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { NativeConnection, Worker, Runtime, DefaultLogger, type WorkerOptions } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { parseConfig } from '../plumbing/loadConfig';
import { taskQueues } from '../domain/ids';
import { connectDb } from '../plumbing/db/connect';
import { migrate } from '../plumbing/db/migrate';
import { DirStore } from '../plumbing/store/dirStore';
import { createLabActivities } from '../activities/labs';
import { createOrchestratorWorker } from '../workers/orchestrator';
import { ORCHESTRATOR_TUNING } from '../workers/options';
import { BenchAdapter } from './support/instantLab';
import { instantBuildActivities } from './support/instantBuilder';
import { startRevision } from '../plumbing/temporal/schedules';
import { pipelineSpecFor } from '../domain/pipelineSpec';
import { createFixtureRepo, headSha } from '../fixtures/generator';
import { startTemporal, type QueueDispatch } from '../stack/temporalServer';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';

const EventType = temporal.api.enums.v1.EventType;
const BUNDLE_SCRIPT = `
const { bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') })
  .then((b) => require('node:fs').writeFileSync(process.argv[1], b.code));`;

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: '120' },
    platforms: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '120' },
    'worker-options': { type: 'string', default: '{}' },
    // Temporal's state in a SQLite file, as `bootfarm up` keeps it, instead of in memory
    'sqlite-file': { type: 'boolean', default: false },
    // leave the bench's directory (databases, artifacts, logs) for inspection
    keep: { type: 'boolean', default: false },
    // how the dev server's task queues hand out tasks (stack/temporalServer.ts QueueDispatch)
    queues: { type: 'string', default: 'fair' },
  },
});
const nConfigs = Number(values.configs);
const nPlatforms = Number(values.platforms);

function benchConfigYaml(): string {
  const configs = Array.from({ length: nConfigs }, (_, i) => `c${String(i).padStart(3, '0')}`);
  const platforms = Array.from({ length: nPlatforms }, (_, i) => `bench-p${i}`);
  const half = Math.ceil(platforms.length / 2);
  const labs = [platforms.slice(0, half), platforms.slice(half)].filter((p) => p.length);
  return [
    'trees:',
    '  - name: bench',
    '    url: /dev/null',
    '    branches: [master]',
    `    buildConfigs: [${configs.join(', ')}]`,
    `    concurrency: ${Number(values.concurrency)}`,
    '    bisect: { enabled: false }',
    'buildConfigs:',
    ...configs.map((c) => `  - { name: ${c}, arch: x86_64, defconfig: defconfig }`),
    'platforms:',
    ...platforms.map((p) => `  - { name: ${p}, arch: x86_64 }`),
    'labs:',
    ...labs.map(
      (ps, i) =>
        `  - { name: bench${i}, adapter: bench, platforms: [${ps.map((p) => `{name: ${p}, capacity: 200}`).join(', ')}] }`,
    ),
  ].join('\n');
}

function vmHwmKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const CLOCK_TICKS = 100;

/** CPU seconds (user + system) used so far by a process and its live children (PostgreSQL's backends). */
function cpuSeconds(pid: number): number {
  const stat = (p: string) =>
    readFileSync(`/proc/${p}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
  let ticks = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const f = stat(p);
      // fields after the command: state ppid … utime (12th) stime (13th)
      if (p === String(pid) || f[1] === String(pid)) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / CLOCK_TICKS;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  chmodSync(dir, 0o755);
  const [tPort, pPort] = [await freePort(), await freePort()];
  const [server, pg] = await Promise.all([
    startTemporal({
      port: tPort,
      logFile: join(dir, 'temporal.log'),
      headless: true,
      queues: values.queues as QueueDispatch,
      ...(values['sqlite-file'] ? { dbFile: join(dir, 'temporal.sqlite') } : {}),
    }),
    startPostgres({ dataDir: join(dir, 'pg'), port: pPort, logFile: join(dir, 'pg.log'), durable: false }),
  ]);
  const sql = await connectDb(pg.url, { max: 20 });
  await migrate(sql);
  const repo = await createFixtureRepo(join(dir, 'tree'));
  const cfgText = benchConfigYaml().replace('url: /dev/null', `url: ${repo.url}`);
  const config = parseConfig(cfgText);
  config.dataDir = dir;
  config.email.outbox = join(dir, 'outbox');
  const store = new DirStore(join(dir, 'artifacts'));
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConn = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConn });
  // Bundled in a child process, as a deployment would prebuild it, so the bundler's memory is not counted as the workers'.
  const bundlePath = join(dir, 'workflows.js');
  execFileSync(process.execPath, ['-r', 'tsx/cjs', '-e', BUNDLE_SCRIPT, bundlePath], {
    stdio: 'inherit',
    cwd: join(__dirname, '..'),
  });
  const bundle = { codePath: bundlePath };
  const deps = { config, connection, namespace: 'default', store };
  const workers = [
    // The production orchestrator worker; --worker-options overrides its tuning (for measuring alternatives).
    await createOrchestratorWorker({ ...deps, sql, client }, { workflowBundle: bundle }, undefined, {
      ...ORCHESTRATOR_TUNING,
      ...(JSON.parse(values['worker-options']) as Partial<WorkerOptions>),
    }),
    await Worker.create({
      connection,
      taskQueue: 'build',
      activities: instantBuildActivities(store),
      maxConcurrentActivityTaskExecutions: 200,
    }),
    // instant boots: as many at once as the revision asks for, on each platform's queue
    ...config.labs.flatMap((lab) =>
      lab.platforms.map((platform) =>
        Worker.create({
          connection,
          taskQueue: taskQueues.labPlatform(lab.name, platform.name),
          activities: createLabActivities({
            lab,
            store,
            workDir: join(dir, 'labs', lab.name),
            adapters: { bench: new BenchAdapter() },
          }),
          maxConcurrentActivityTaskExecutions: 400,
        }),
      ),
    ),
  ];
  const ready = await Promise.all(workers);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const running = ready.map((w) => w.run());
  // Lab health is read from the task queue's pollers: give them one poll first.
  await new Promise((r) => setTimeout(r, 1500));

  const sha = await headSha(repo);
  const loadBefore = loadavg()[0];
  const serverPid = server.service.child.pid as number;
  const pgPid = pg.service.child.pid as number;
  const cpu0 = { workers: process.cpuUsage(), server: cpuSeconds(serverPid), pg: cpuSeconds(pgPid) };
  const spec = pipelineSpecFor(config, 'bench', 'master');
  const t0 = Date.now();
  const { workflowId } = await startRevision(client, { ...spec, sha });
  const report = (await client.workflow.getHandle(workflowId).result()) as { counts: unknown; result: string };
  const wallMs = Date.now() - t0;
  clearInterval(sampler);
  const loadDuring = loadavg()[0];
  const workerCpu = process.cpuUsage(cpu0.workers);
  const cpu = {
    workers: +((workerCpu.user + workerCpu.system) / 1e6).toFixed(1),
    temporalServer: +(cpuSeconds(serverPid) - cpu0.server).toFixed(1),
    postgres: +(cpuSeconds(pgPid) - cpu0.pg).toFixed(1),
  };

  // Orchestration overhead: activities that do no work, from scheduled to completed.
  const latencies: number[] = [];
  const perBuildBoot = { events: 0, workflowTasks: 0, localActivities: 0 };
  for await (const wf of client.workflow.list({ query: `WorkflowType = "buildBoot"` })) {
    const history = await client.workflow.getHandle(wf.workflowId).fetchHistory();
    const scheduled = new Map<string, number>();
    perBuildBoot.events += history.events?.length ?? 0;
    for (const e of history.events ?? []) {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) perBuildBoot.workflowTasks++;
      if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) perBuildBoot.localActivities++;
      const t = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduled.set(String(e.eventId), t);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const s = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (s !== undefined) latencies.push(t - s);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  const [{ builds }] = await sql`select count(*)::int as builds from builds`;
  const [{ boots }] = await sql`select count(*)::int as boots from boots`;
  const figures = {
    buildConfigs: nConfigs,
    platforms: nPlatforms,
    result: report.result,
    recordedBuilds: builds,
    recordedBoots: boots,
    wallSeconds: +(wallMs / 1000).toFixed(2),
    loadAverage: { before: +loadBefore.toFixed(2), atEnd: +loadDuring.toFixed(2) },
    cpuSeconds: cpu,
    activities: latencies.length,
    perBuildBoot: Object.fromEntries(
      Object.entries(perBuildBoot).map(([k, v]) => [k, +(v / Math.max(1, nConfigs)).toFixed(1)]),
    ),
    activityOverheadMs: { median: percentile(latencies, 50), p95: percentile(latencies, 95) },
    peakRssMb: {
      workers: Math.round(peakRss / 2 ** 20),
      temporalServer: Math.round(vmHwmKb(serverPid) / 1024),
      postgresPostmaster: Math.round(vmHwmKb(pgPid) / 1024),
    },
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  for (const w of ready) w.shutdown();
  await Promise.all(running);
  await sql.end();
  await clientConn.close();
  await connection.close();
  await Promise.all([server.stop(), pg.stop()]);
  if (values.keep) process.stderr.write(`bench/pipeline: kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`bench/pipeline: ${(e as Error).stack}\n`);
  process.exit(1);
});
