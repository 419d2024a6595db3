/**
 * A lab worker killed in the middle of a boot (SIGKILL: the OOM killer, a
 * pulled plug): its heartbeats stop, Temporal notices within the lab's
 * heartbeat timeout, and the boot is retried on another worker of the lab;
 * with no worker left to take the retry, the boot ends offline. Either way
 * it is never blamed on the kernel, and the dead worker's QEMU dies with it.
 *
 * Lab workers are real `bootfarm worker lab --lab NAME` processes; the
 * orchestrator and the builder run in this process. The file has a Temporal
 * namespace of its own, so every task queue has its production name.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { createFixtureRepo, headSha, type FixtureRepo } from '../../fixtures/generator';
import { loadConfig } from '../../plumbing/loadConfig';
import type { BootfarmConfig } from '../../domain/config';
import { taskQueues, workflowIds } from '../../domain/ids';
import { createStore } from '../../plumbing/store';
import { createBuilderWorkers } from '../../workers/builder';
import { createOrchestratorWorker } from '../../workers/orchestrator';
import { buildBootWorkflowId, pipelineSpecFor, revisionStartOptions } from '../../domain/pipelineSpec';
import type { revisionPipeline } from '../../workflows/revisionPipeline';
import {
  freshDatabase,
  freshNamespace,
  servicesYaml,
  temporalAddress,
  workflowBundlePath,
  type TestDatabase,
} from '../harness/services';
import { descendants, ended, processes, type ProcessInfo } from './support/processTree';
import { until } from '../harness/until';
import { testConfigYaml } from '../support/testConfig';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'bootfarm.js');
const { TimeoutType, TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;

/** The board's boot takes this long (the fixture kernel's fixture.delay): a worker is killed well inside it. */
const BOOT_DELAY_S = 8;
/** Short, so a dead worker is noticed in seconds; a live one heartbeats every 2 s, sent at most every 0.8 of this. */
const HEARTBEAT_TIMEOUT_S = 8;

interface LabSetup {
  tree: string;
  lab: string;
  attempts: number;
  scheduleToStartS: number;
}
/** Two workers: the boot can move to the second. */
const FAILOVER: LabSetup = { tree: 'failover', lab: 'farm-a', attempts: 3, scheduleToStartS: 60 };
/**
 * One worker: its retry waits in its board queue, round after round (10 s, 20 s, 40 s …) while the dead
 * worker's last poll still counts as a served board, then the boot is offline.
 */
const STRANDED: LabSetup = { tree: 'stranded', lab: 'farm-b', attempts: 2, scheduleToStartS: 10 };

let db: TestDatabase;
let dir: string;
let repo: FixtureRepo;
let sha: string;
let namespace: string;
let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
const inProcess: { worker: Worker; running: Promise<void> }[] = [];
const labWorkers: LabWorkerProcess[] = [];
const labs: Record<string, { config: BootfarmConfig; workers: LabWorkerProcess[] }> = {};

const q = JSON.stringify;

/** A bootfarm.yaml in the test's directory: the services of this run, and `rest`; only the orchestrator's names the database. */
function writeConfig(
  name: string,
  rest = '',
  opts: { database?: boolean } = {},
): { file: string; config: BootfarmConfig } {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `${servicesYaml(dir, namespace, opts.database ? db.url : undefined)}${rest}`);
  return { file, config: loadConfig(file) };
}

/** A lab's deployment: a tree, the fixture build config, and a board that boots slowly in one QEMU lab. */
function writeLabConfig(setup: LabSetup): { file: string; config: BootfarmConfig } {
  return writeConfig(
    setup.lab,
    testConfigYaml({
      tree: setup.tree,
      url: q(repo.url),
      platform: 'slow-pc',
      platformOptions: `kernelArgs: fixture.delay=${BOOT_DELAY_S}, bootTimeout: 60s`,
      lab: setup.lab,
      // a short grace: a dead worker's last poll stops counting as a served board soon after its long poll
      labOptions: `heartbeatTimeout: ${HEARTBEAT_TIMEOUT_S}s, attempts: ${setup.attempts}, scheduleToStartTimeout: ${setup.scheduleToStartS}s, offlineGrace: 5s`,
    }),
  );
}

interface LabWorkerProcess {
  pid: number;
  /** the worker's identity in Temporal's history (the SDK's default: pid@host) */
  identity: string;
  exited: Promise<void>;
  /** SIGKILL to the worker's whole process group: nothing of it gets to clean up */
  kill(): Promise<void>;
}

/** `bootfarm worker lab --lab NAME` as an operator runs it, its output in a log file of its own. */
function startLabWorker(configFile: string, lab: string): LabWorkerProcess {
  const env = { ...process.env };
  // the config file says where Temporal and the database are, not the test's environment
  for (const k of ['BOOTFARM_CONFIG', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'S3_BUCKET'])
    delete env[k];
  const child = spawn(process.execPath, [BIN, 'worker', 'lab', '--lab', lab, '--config', configFile], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  const log = createWriteStream(join(dir, `worker-${lab}-${pid}.log`));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: LabWorkerProcess = {
    pid,
    identity: `${pid}@${hostname()}`,
    exited,
    async kill() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await exited;
    },
  };
  labWorkers.push(worker);
  return worker;
}

/** Resolves once Temporal lists every one of `workers` as a poller of the lab's queue of its one platform. */
async function polling(lab: string, workers: LabWorkerProcess[]): Promise<void> {
  const queue = taskQueues.labPlatform(lab, 'slow-pc');
  await until(
    `${workers.length} worker(s) polling ${queue}`,
    async () => {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: queue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const identities = new Set((pollers ?? []).map((p) => p.identity));
      return workers.every((w) => identities.has(w.identity)) ? true : undefined;
    },
    60_000,
  );
}

/** The worker whose QEMU is running the boot, and everything it started (the QEMU among them). */
function booting(workers: LabWorkerProcess[]): Promise<{ worker: LabWorkerProcess; started: ProcessInfo[] }> {
  return until(
    'a lab worker running QEMU',
    () => {
      const table = processes();
      for (const worker of workers) {
        const started = descendants(worker.pid, table);
        if (started.some((p) => basename(p.argv[0] ?? '').startsWith('qemu-system'))) return { worker, started };
      }
      return undefined;
    },
    120_000,
  );
}

async function runRevision(setup: LabSetup, config: BootfarmConfig, kill: () => Promise<void>) {
  const input = { ...pipelineSpecFor(config, setup.tree, 'master'), sha };
  const handle = await client.workflow.start<typeof revisionPipeline>('revisionPipeline', {
    taskQueue: taskQueues.orchestrator,
    ...revisionStartOptions(input),
    args: [input],
  });
  await kill();
  const report = await handle.result();
  const history = await client.workflow.getHandle(buildBootWorkflowId(input, 'x86_64-defconfig')).fetchHistory();
  const events = history.events ?? [];
  const [scheduled] = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'bootKernel');
  const ofBoot = <T extends { scheduledEventId?: unknown } | null | undefined>(attrs: T) =>
    String(attrs?.scheduledEventId) === String(scheduled.eventId);
  const started = events.find((e) => ofBoot(e.activityTaskStartedEventAttributes))?.activityTaskStartedEventAttributes;
  const timedOut = events.find((e) =>
    ofBoot(e.activityTaskTimedOutEventAttributes),
  )?.activityTaskTimedOutEventAttributes;
  const boots = await db.sql`select status, lab, attempts, message from boots where tree = ${setup.tree}`;
  return { report, started, timedOut, boots };
}

/** Kills the worker running the boot; returns it once everything it had started is gone too (or throws). */
async function killMidBoot(workers: LabWorkerProcess[]): Promise<LabWorkerProcess> {
  const { worker, started } = await booting(workers);
  await worker.kill();
  for (const p of started) {
    if (!(await ended(p.pid, 3000)))
      throw new Error(`${p.argv.join(' ')} (pid ${p.pid}) outlived its killed lab worker by more than 3 s`);
  }
  return worker;
}

beforeAll(async () => {
  db = await freshDatabase();
  dir = mkdtempSync(join(tmpdir(), 'bf-labfailover-'));
  repo = await createFixtureRepo(join(dir, 'tree'));
  sha = await headSha(repo);

  clientConnection = await Connection.connect({ address: temporalAddress() });
  namespace = await freshNamespace(clientConnection, 'labfailover-');
  client = new Client({ connection: clientConnection, namespace });

  // The orchestrator and the builder: everything but the labs, in this process.
  const { config } = writeConfig('orchestrator', '', { database: true });
  workerConnection = await NativeConnection.connect({ address: temporalAddress() });
  const deps = { config, connection: workerConnection, namespace, store: await createStore(config.artifacts) };
  const workers = [
    await createOrchestratorWorker(
      { ...deps, sql: db.sql, client },
      { workflowBundle: { codePath: workflowBundlePath() } },
    ),
    ...(await createBuilderWorkers(deps)),
  ];
  for (const worker of workers) inProcess.push({ worker, running: worker.run() });

  // The labs' workers: real processes, as lab admins start them next to their boards.
  for (const [setup, count] of [
    [FAILOVER, 2],
    [STRANDED, 1],
  ] as const) {
    const { file, config: labConfig } = writeLabConfig(setup);
    labs[setup.lab] = {
      config: labConfig,
      workers: Array.from({ length: count }, () => startLabWorker(file, setup.lab)),
    };
  }
  await Promise.all(Object.entries(labs).map(([lab, { workers: w }]) => polling(lab, w)));
}, 120_000);

afterAll(async () => {
  await Promise.all(labWorkers.map((w) => w.kill()));
  for (const { worker } of inProcess) if (worker.getState() === 'RUNNING') worker.shutdown();
  await Promise.all(inProcess.map((w) => w.running));
  await workerConnection?.close();
  await clientConnection?.close();
  await db?.drop();
  // nothing of this file may outlive it: no worker, no QEMU, no make
  const left = processes().filter((p) => p.argv.some((a) => a.includes(dir)));
  if (left.length)
    throw new Error(`processes left behind:\n${left.map((p) => `${p.pid} ${p.argv.join(' ')}`).join('\n')}`);
});

describe('a lab worker killed mid-boot', () => {
  it('is noticed by its missing heartbeats, and the boot passes on another worker of the lab; its QEMU dies with it', async () => {
    const { config, workers } = labs[FAILOVER.lab];
    let killed: LabWorkerProcess | undefined;
    const { report, started, boots } = await runRevision(FAILOVER, config, async () => {
      killed = await killMidBoot(workers);
    });
    const survivor = workers.find((w) => w !== killed);

    expect(report.result).toBe('pass');
    expect(report.counts.boots).toEqual({ total: 1, pass: 1, fail: 0, infraError: 0, offline: 0, skip: 0 });
    expect(boots).toEqual([expect.objectContaining({ status: 'pass', lab: FAILOVER.lab })]);
    expect(boots[0].attempts).toBeGreaterThanOrEqual(2);
    // the attempt that passed ran on the other worker, after the first was lost to the heartbeat timeout
    expect(started?.attempt).toBe(boots[0].attempts);
    expect(started?.identity).toBe(survivor?.identity);
    expect(started?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
  }, 120_000);

  it('ends offline, not as a kernel failure, when the lab has no other worker to take the retry', async () => {
    const { config, workers } = labs[STRANDED.lab];
    const { report, timedOut, boots } = await runRevision(STRANDED, config, async () => {
      await killMidBoot(workers);
    });

    expect(report.counts.boots).toEqual({ total: 1, pass: 0, fail: 0, infraError: 0, offline: 1, skip: 0 });
    expect(report.result).toBe('infra-error'); // not 'fail': nothing is blamed on the kernel
    expect(boots).toEqual([
      {
        status: 'offline',
        lab: STRANDED.lab,
        // it did run once, on the worker that died
        attempts: 1,
        message: expect.stringMatching(
          new RegExp(
            `^no board of slow-pc in lab ${STRANDED.lab} took the boot within \\d+s, and no worker serves it now after an attempt ended in heartbeat timeout$`,
          ),
        ),
      },
    ]);
    // the retry after the heartbeat timeout waited in the queue until schedule-to-start gave up on it
    expect(timedOut?.failure?.timeoutFailureInfo?.timeoutType).toBe(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
    // and the maintainers' boot report counts it as offline
    await client.workflow.getHandle(workflowIds.report(STRANDED.tree, 'master', sha)).result();
    const [mail] = await db.sql`select subject from reports where tree = ${STRANDED.tree} and kind = 'boot'`;
    expect(mail.subject).toBe(`${STRANDED.tree}/master boot: 1 boot: 0 failed, 0 passed with 1 offline (v0.1)`);
  }, 240_000);
});
