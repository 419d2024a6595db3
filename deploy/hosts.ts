/**
 * The whole deployment as hosts on this machine: every service of
 * deploy/topology.ts in a network namespace of its own with its own address
 * on a bridge (stack/netHosts.ts), so services reach each other by address
 * (by name through each host's /etc/hosts), never by loopback:
 *
 *   temporal-db, results-db   PostgreSQL: Temporal's databases; Bootfarm's results
 *   temporal-1, temporal-2    the Temporal server cluster (stack/temporalCluster.ts)
 *   temporal-ui               the Temporal Web UI
 *   s3                        SeaweedFS (an admin key, and a key for the artifact bucket only)
 *   mail                      an SMTP sink keeping every message as a file (deploy/smtpSink.ts)
 *   git                       git daemon serving the monitored trees (git://git/<name>)
 *   migrate                   `bootfarm db migrate` and lab registration, once
 *   orchestrator-1, -2        `bootfarm worker orchestrator`
 *   builder-1, -2             `bootfarm worker builder`
 *   lab-a, lab-b              `bootfarm worker lab --lab farm-a|farm-b` (QEMU)
 *   dashboard                 `bootfarm dashboard --host 0.0.0.0 --port 8080`
 *   api-lab                   an API lab's client (deploy/apiLabClient.ts), holding its lab token only
 *
 * Each Bootfarm service gets exactly the environment the table gives it
 * (plus PATH and HOME), so /proc/<pid>/environ shows what a host holds.
 * Every service can be stopped, killed (its whole host, as a power cut) and
 * started again, and a host cut off the network; teardown() removes
 * everything and says what, if anything, was left.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { parseConfig } from '../plumbing/loadConfig';
import { taskQueues } from '../domain/ids';
import { untilReady, type Service } from '../stack/childProcess';
import { NetHosts, type NetHost } from '../stack/netHosts';
import { startPostgres, type PostgresServer } from '../stack/postgres';
import { bucketActions, startSeaweedS3, type SeaweedPorts, type SeaweedS3 } from '../stack/seaweedfs';
import { startTemporalCluster, startTemporalUi, type TemporalCluster, type TemporalUi } from '../stack/temporalCluster';
import { freePort, waitFor } from '../stack/ports';
import { startTemporal, type TemporalServer } from '../stack/temporalServer';
import { findOnPath, PROJECT_ROOT } from '../plumbing/tools';
import {
  ARTIFACT_BUCKET,
  BOOTFARM_SERVICES,
  environmentOf,
  INFRASTRUCTURE,
  LABS,
  OUTSIDE,
  PORTS,
  type BootfarmService,
  type DeploymentSetting,
} from './topology';
import { createBucket } from './s3Setup';

const BIN = join(PROJECT_ROOT, 'bin', 'bootfarm.js');
/** tsx's require hook, by path: services run with their host's folder as working directory. */
const TSX = require.resolve('tsx/cjs');
const { TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;

export interface HostsDeploymentOptions {
  /** logs (logs/<host>.log), data and each host's files (hosts/<host>/) */
  dir: string;
  /**
   * bootfarm.yaml of every Bootfarm service: trees (at git://git/<name>),
   * build configs, platforms, labs (farm-a, farm-b: qemu; farm-api: api).
   * No connection settings or secrets: the environment gives those.
   */
  config: string;
  /** bare or non-bare repositories the git host serves, by the name in their URL */
  repositories: Record<string, string>;
  /** boots at once on the API lab */
  apiLabBoards?: number;
  /**
   * The Temporal server cluster (default), or the Temporal CLI's dev server
   * on temporal-1 as `npm start` runs it, to compare the two (bench/deployment.ts).
   */
  temporal?: 'cluster' | 'dev-server';
  progress?: (line: string) => void;
}

/** What a host runs, and how to start, stop and check it. */
interface Hosted {
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  /** the pid of its main process (a Temporal node, PostgreSQL's postmaster, a Bootfarm service) */
  pid(): number | undefined;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The deployment's settings: secrets generated for this run, URLs as the hosts see them. */
function generateSettings(uiAddress: string): Record<DeploymentSetting, string> {
  return {
    BOOTFARM_DB_PASSWORD: hex(16),
    TEMPORAL_DB_PASSWORD: hex(16),
    BOOTFARM_ADMIN_TOKEN: `bfa_${hex(24)}`,
    S3_ACCESS_KEY_ID: `bucket${hex(6)}`,
    S3_SECRET_ACCESS_KEY: hex(20),
    S3_ADMIN_ACCESS_KEY_ID: `admin${hex(6)}`,
    S3_ADMIN_SECRET_ACCESS_KEY: hex(20),
    DASHBOARD_URL: `http://dashboard:${PORTS.dashboard}`,
    TEMPORAL_UI_URL: `http://${uiAddress}:${PORTS.temporalUi}`,
  };
}

/** One line of a failed command's output: the last non-empty one. */
function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? ''
  );
}

export class HostsDeployment {
  readonly settings: Record<DeploymentSetting, string>;
  readonly logDir: string;
  /** host name → what it runs */
  private readonly hosted = new Map<string, Hosted>();
  /** the Bootfarm services' processes, by host */
  private readonly services = new Map<string, Service>();
  cluster?: TemporalCluster;
  ui?: TemporalUi;
  /** the API lab's token, as `bootfarm lab token` printed it */
  labToken = '';
  /** how long each phase of the start took (ms) */
  readonly startup: Record<string, number> = {};
  private readonly progress: (line: string) => void;
  private connection?: Connection;
  private db?: Sql;

  constructor(
    readonly hosts: NetHosts,
    readonly opts: HostsDeploymentOptions,
  ) {
    this.logDir = join(opts.dir, 'logs');
    this.progress = opts.progress ?? (() => {});
    this.settings = generateSettings(hosts.host('temporal-ui').address);
  }

  address(host: string): string {
    return this.hosts.host(host).address;
  }

  /** The dashboard, by address (this process resolves no host names). */
  get dashboardUrl(): string {
    return `http://${this.address('dashboard')}:${PORTS.dashboard}`;
  }

  get resultsDatabaseUrl(): string {
    return `postgres://bootfarm:${this.settings.BOOTFARM_DB_PASSWORD}@${this.address('results-db')}:${PORTS.postgres}/bootfarm`;
  }

  /** A client of the results database, for looking at what the deployment recorded. */
  get sql(): Sql {
    this.db ??= postgres(this.resultsDatabaseUrl, { max: 2, onnotice: () => {}, connect_timeout: 5 });
    return this.db;
  }

  get s3Endpoint(): string {
    return `http://${this.address('s3')}:${PORTS.s3}`;
  }

  get mailDir(): string {
    return join(this.opts.dir, 'hosts', 'mail', 'messages');
  }

  hostDir(host: string): string {
    return join(this.opts.dir, 'hosts', host);
  }

  /** The frontends of every Temporal node, started or not. */
  temporalAddresses(): string[] {
    return this.hosts
      .list()
      .filter((h) => /^temporal-\d+$/.test(h.name))
      .map((h) => `${h.address}:${PORTS.temporalFrontend}`);
  }

  /**
   * A Temporal client of this process, failing over between the nodes: a
   * call that finds its node gone is made again on a new connection to
   * whichever node answers.
   */
  async temporal<T>(call: (client: Client) => Promise<T>, timeoutMs = 180_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        this.connection ??= await this.connectAny();
        return await call(new Client({ connection: this.connection }));
      } catch (e) {
        const code = (e as { code?: number }).code;
        // 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED: the node went away; anything else is the call's own answer
        const gone = code === 14 || code === 4 || /no Temporal node answers|UNAVAILABLE|ECONNREFUSED/.test(String(e));
        if (!gone || Date.now() > deadline) throw e;
        await this.connection?.close().catch(() => {});
        this.connection = undefined;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async connectAny(): Promise<Connection> {
    for (const address of this.temporalAddresses()) {
      try {
        const c = await Connection.connect({ address, connectTimeout: 2000 });
        await c.workflowService.getSystemInfo({});
        return c;
      } catch {
        /* the next */
      }
    }
    throw new Error(`no Temporal node answers (${this.temporalAddresses().join(', ')})`);
  }

  /** The pid of the main process of each running host, by host. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [host, h] of this.hosted) {
      const pid = h.running() ? h.pid() : undefined;
      if (pid) out[host] = pid;
    }
    return out;
  }

  running(host: string): boolean {
    return this.hostedOf(host).running();
  }

  private hostedOf(host: string): Hosted {
    const h = this.hosted.get(host);
    if (!h) throw new Error(`no service on host ${host} (hosts: ${[...this.hosted.keys()].join(', ')})`);
    return h;
  }

  /** Starts a host's service again and waits until it answers. */
  async start(host: string): Promise<void> {
    const t0 = Date.now();
    await this.hostedOf(host).start();
    this.progress(`deployment: ${host} up (${Date.now() - t0} ms)`);
  }

  /** Stops a host's service gracefully (SIGTERM: a worker drains). */
  async stop(host: string): Promise<void> {
    await this.hostedOf(host).stop();
    this.progress(`deployment: ${host} stopped`);
  }

  /** Every process of a host dies at once (SIGKILL), as in a power cut. */
  async kill(host: string): Promise<void> {
    this.progress(`deployment: killing every process of ${host}`);
    await this.hosts.kill(host);
    await waitFor(
      `host ${host} without processes`,
      async () => (this.hosts.processesOf(host).length ? undefined : true),
      10_000,
      50,
    );
  }

  /** Every process of a host stops (SIGSTOP) until resume(): a host that hangs, or a lab that answers late. */
  pause(host: string): void {
    this.signalHost(host, 'SIGSTOP');
    this.progress(`deployment: ${host} paused`);
  }

  resume(host: string): void {
    this.signalHost(host, 'SIGCONT');
    this.progress(`deployment: ${host} resumed`);
  }

  private signalHost(host: string, signal: NodeJS.Signals): void {
    for (const pid of this.hosts.processesOf(host)) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
  }

  cut(host: string): void {
    this.hosts.cut(host);
    this.progress(`deployment: ${host} cut off the network`);
  }

  restore(host: string): void {
    this.hosts.restore(host);
    this.progress(`deployment: ${host} back on the network`);
  }

  /** `bootfarm ARGS` on a host with this environment, to completion; its stdout. */
  runOnHost(host: string, args: string[], env: Record<string, string>): Promise<string> {
    const prefix = this.hosts.host(host).prefix;
    const argv = [...prefix, process.execPath, BIN, ...args];
    return new Promise((resolve, reject) => {
      execFile(argv[0], argv.slice(1), { env, timeout: 120_000, cwd: this.hostDir(host) }, (err, stdout, stderr) => {
        if (err)
          reject(new Error(`bootfarm ${args.join(' ')} on ${host}: ${lastLine(stderr || stdout) || err.message}`));
        else resolve(stdout);
      });
    });
  }

  /** The environment of a Bootfarm service's host: the table's, its own config file, PATH and HOME. */
  environment(service: BootfarmService): Record<string, string> {
    return {
      ...environmentOf(service, this.settings),
      // the file system is shared on this machine: each host has its own config file and data under its own folder
      BOOTFARM_CONFIG: join(this.hostDir(service.name), 'bootfarm.yaml'),
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.hostDir(service.name),
    };
  }

  /** Writes the host's folder and config file (the shared config: its relative paths land in the host's folder). */
  prepareHost(service: BootfarmService): void {
    const dir = this.hostDir(service.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bootfarm.yaml'), this.opts.config);
  }

  /** The argv of a Bootfarm service, of the build in `root` (this checkout by default). */
  private argv(service: BootfarmService, root = PROJECT_ROOT): [string, string[]] {
    return [process.execPath, [join(root, 'bin', 'bootfarm.js'), ...service.command]];
  }

  private readonly readiness = new Map<string, (pid: number) => Promise<boolean | undefined>>();

  /** Starts a Bootfarm service's process from the build in `root` and waits until it is ready. */
  private async launch(service: BootfarmService, root?: string): Promise<Service> {
    const [cmd, args] = this.argv(service, root);
    const s = this.hosts.start(service.name, service.name, cmd, args, join(this.logDir, `${service.name}.log`), {
      env: this.environment(service),
      cwd: this.hostDir(service.name),
    });
    const ready = this.readiness.get(service.name) as (pid: number) => Promise<boolean | undefined>;
    await untilReady(
      s,
      `${service.name} (bootfarm ${service.command.join(' ')})`,
      () => ready(s.child.pid!),
      180_000,
      500,
    );
    return s;
  }

  /** Registers a Bootfarm service with its readiness check. */
  addBootfarmService(service: BootfarmService, ready: (pid: number) => Promise<boolean | undefined>): void {
    this.prepareHost(service);
    this.readiness.set(service.name, ready);
    const hosted: Hosted = {
      start: async () => {
        this.services.set(service.name, await this.launch(service));
      },
      stop: async () => {
        await this.services.get(service.name)?.stop((service.stopGraceSeconds ?? 30) * 1000);
      },
      running: () => !!this.services.get(service.name)?.running() && this.hosts.processesOf(service.name).length > 0,
      pid: () => this.services.get(service.name)?.child.pid,
    };
    this.hosted.set(service.name, hosted);
  }

  /**
   * A rolling upgrade of one host's service: the build in `root` starts
   * beside the running one; once it polls, the old one gets SIGTERM and
   * drains (finishes what it runs, takes nothing new). Resolves with the old
   * process's exit code and how long it drained.
   */
  async upgrade(host: string, root: string): Promise<{ exitCode: number | null; drainMs: number }> {
    const service = BOOTFARM_SERVICES.find((s) => s.name === host);
    const old = this.services.get(host);
    if (!service || !old) throw new Error(`no running Bootfarm service on host ${host}`);
    this.progress(`deployment: ${host}: starting the build in ${root}`);
    this.services.set(host, await this.launch(service, root));
    const t0 = Date.now();
    old.child.kill('SIGTERM');
    const exitCode = await old.exited;
    this.progress(`deployment: ${host}: the old build drained and exited ${exitCode} (${Date.now() - t0} ms)`);
    return { exitCode, drainMs: Date.now() - t0 };
  }

  /** Whether Temporal lists a poller with this pid's identity on an activity or workflow queue. */
  async polling(
    taskQueue: string,
    pid: number,
    type: 'activity' | 'workflow' = 'activity',
  ): Promise<boolean | undefined> {
    const identity = `${pid}@${hostname()}`;
    const { pollers } = await this.temporal((c) =>
      c.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType:
          type === 'activity' ? TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY : TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    return (pollers ?? []).some((p) => p.identity === identity) || undefined;
  }

  addHosted(host: string, hosted: Hosted): void {
    this.hosted.set(host, hosted);
  }

  /** Stops every service (gracefully, in parallel, briefly), then removes the hosts; returns what was left. */
  async teardown(): Promise<{ resources: ReturnType<NetHosts['remaining']>; processes: number[] }> {
    await this.connection?.close().catch(() => {});
    this.connection = undefined;
    await this.db?.end({ timeout: 2 }).catch(() => {});
    this.db = undefined;
    const quick = [...this.services.values()].map((s) => s.stop(5000).catch(() => {}));
    await Promise.all([
      ...quick,
      ...[...this.hosted.entries()]
        .filter(([host]) => !this.services.has(host))
        .map(([, h]) => h.stop().catch(() => {})),
    ]);
    const everything = this.hosts.processes();
    await this.hosts.teardown();
    const alive = everything.filter((pid) => existsSync(`/proc/${pid}`));
    return { resources: this.hosts.remaining(), processes: alive };
  }
}

/** Every host of the deployment, in the order they are added to the bridge. */
export const HOST_NAMES = [...INFRASTRUCTURE, ...BOOTFARM_SERVICES.map((s) => s.name), ...OUTSIDE];

/** The names every host resolves: each host by its name, and `temporal-frontend` as every Temporal node. */
function namesOf(hosts: NetHost[], temporal: HostsDeploymentOptions['temporal']): Record<string, string[]> {
  const names: Record<string, string[]> = {};
  for (const h of hosts) names[h.name] = [h.address];
  const nodes = hosts.filter((h) => /^temporal-\d+$/.test(h.name));
  names['temporal-frontend'] = (temporal === 'dev-server' ? nodes.slice(0, 1) : nodes).map((h) => h.address);
  return names;
}

/** The Temporal server cluster on temporal-1 and temporal-2 (stack/temporalCluster.ts), on temporal-db. */
async function startCluster(dep: HostsDeployment, progress: (line: string) => void): Promise<void> {
  const nodes = dep.hosts.list().filter((h) => /^temporal-\d+$/.test(h.name));
  const cluster = await startTemporalCluster(
    {
      db: {
        host: dep.address('temporal-db'),
        port: PORTS.postgres,
        user: 'temporal',
        password: dep.settings.TEMPORAL_DB_PASSWORD,
      },
      nodes: nodes.map((h) => ({ name: h.name, address: h.address, prefix: h.prefix })),
      dir: dep.logDir,
    },
    progress,
  );
  dep.cluster = cluster;
  for (const n of cluster.nodes)
    dep.addHosted(n.spec.name, {
      start: () => cluster.start(n.spec.name),
      stop: () => cluster.stop(n.spec.name),
      running: () => !!n.service?.running(),
      pid: () => n.service?.child.pid,
    });
}

/** The Temporal CLI's dev server on temporal-1 instead of the cluster, as `bootfarm up` runs it (a SQLite file). */
async function startDevServer(dep: HostsDeployment): Promise<void> {
  const host = dep.hosts.host('temporal-1');
  let server: TemporalServer | undefined;
  const hosted: Hosted = {
    start: async () => {
      server = await startTemporal({
        port: PORTS.temporalFrontend,
        host: host.address,
        prefix: host.prefix,
        dbFile: join(dep.hostDir('temporal-1'), 'temporal.sqlite'),
        logFile: join(dep.logDir, 'temporal-1.log'),
        headless: true,
      });
    },
    stop: async () => server?.stop(),
    running: () => !!server?.service.running(),
    pid: () => server?.service.child.pid,
  };
  mkdirSync(dep.hostDir('temporal-1'), { recursive: true });
  dep.addHosted('temporal-1', hosted);
  await hosted.start();
}

async function timed<T>(d: HostsDeployment, phase: string, step: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const r = await step();
  d.startup[phase] = Date.now() - t0;
  return r;
}

function addPostgres(
  d: HostsDeployment,
  host: string,
  role: string,
  password: string,
  database: string,
): Promise<void> {
  let pg: PostgresServer | undefined;
  const dataDir = join(d.hostDir(host), 'pgdata');
  const h = d.hosts.host(host);
  const hosted: Hosted = {
    start: async () => {
      pg = await startPostgres({
        dataDir,
        port: PORTS.postgres,
        host: h.address,
        allowFrom: d.hosts.subnet,
        prefix: h.prefix,
        logFile: join(d.logDir, `${host}.log`),
        role,
        password,
        database,
      });
    },
    stop: async () => {
      await pg?.stop();
    },
    running: () => !!pg?.service.running(),
    pid: () => pg?.service.child.pid,
  };
  d.addHosted(host, hosted);
  return hosted.start();
}

function addSeaweed(d: HostsDeployment): Promise<void> {
  let s3: SeaweedS3 | undefined;
  let ports: SeaweedPorts | undefined;
  const h = d.hosts.host('s3');
  const { settings } = d;
  const hosted: Hosted = {
    start: async () => {
      // free ports of this machine for weed's inner servers (its sockets in /tmp are named by port); S3 on the
      // deployment's port; the same ports again on a restart
      ports ??= {
        master: { http: await freePort(), grpc: await freePort() },
        volume: { http: await freePort(), grpc: await freePort() },
        filer: { http: await freePort(), grpc: await freePort() },
        s3: { http: PORTS.s3, grpc: await freePort() },
      };
      s3 = await startSeaweedS3({
        dataDir: join(d.hostDir('s3'), 'data'),
        logFile: join(d.logDir, 's3.log'),
        host: h.address,
        prefix: h.prefix,
        ports,
        accessKeyId: settings.S3_ADMIN_ACCESS_KEY_ID,
        secretAccessKey: settings.S3_ADMIN_SECRET_ACCESS_KEY,
        identities: [
          {
            name: 'bootfarm-artifacts',
            accessKeyId: settings.S3_ACCESS_KEY_ID,
            secretAccessKey: settings.S3_SECRET_ACCESS_KEY,
            actions: bucketActions(ARTIFACT_BUCKET),
          },
        ],
      });
    },
    stop: async () => {
      await s3?.stop();
    },
    running: () => !!s3?.service.running(),
    pid: () => s3?.service.child.pid,
  };
  d.addHosted('s3', hosted);
  return hosted.start();
}

function addProcess(
  d: HostsDeployment,
  host: string,
  cmd: string,
  args: string[],
  ready: () => Promise<boolean | undefined>,
  env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' },
): Promise<void> {
  let service: Service | undefined;
  const hosted: Hosted = {
    start: async () => {
      service = d.hosts.start(host, host, cmd, args, join(d.logDir, `${host}.log`), { env, cwd: d.hostDir(host) });
      await untilReady(service, host, ready, 60_000, 200);
    },
    stop: async () => {
      await service?.stop(5000);
    },
    running: () => !!service?.running(),
    pid: () => service?.child.pid,
  };
  d.addHosted(host, hosted);
  mkdirSync(d.hostDir(host), { recursive: true });
  return hosted.start();
}

function tcpAnswers(address: string, port: number): () => Promise<boolean | undefined> {
  return () =>
    new Promise((resolve) => {
      const { connect } = require('node:net') as typeof import('node:net');
      const socket = connect({ host: address, port, timeout: 1000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(undefined));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(undefined);
      });
    });
}

/** The API lab's platforms in the config, for `bootfarm lab add`. */
function apiLabPlatforms(config: string): string[] {
  const lab = parseConfig(config).labs.find((l) => l.name === LABS.api);
  if (!lab || lab.adapter !== 'api') throw new Error(`the deployment's config needs an api lab ${LABS.api}`);
  return lab.platforms.map((p) => `${p.name}:${p.capacity}`);
}

/** The task queues a lab's worker polls: one per platform of the lab. */
function labPlatformQueues(config: string, labName: string): string[] {
  const lab = parseConfig(config).labs.find((l) => l.name === labName);
  if (!lab) throw new Error(`the deployment's config has no lab ${labName}`);
  return lab.platforms.map((p) => taskQueues.labPlatform(lab.name, p.name));
}

/**
 * Starts the whole deployment, each service on its host, and waits until
 * every one answers (workers: polling their queues). On failure everything
 * started is torn down again.
 */
export async function startHostsDeployment(opts: HostsDeploymentOptions): Promise<HostsDeployment> {
  const progress = opts.progress ?? (() => {});
  const t0 = Date.now();
  mkdirSync(opts.dir, { recursive: true });
  chmodSync(opts.dir, 0o755); // PostgreSQL runs as an unprivileged user when we are root
  const hosts = await NetHosts.create();
  let d: HostsDeployment | undefined;
  try {
    for (const name of HOST_NAMES) hosts.add(name);
    const names = namesOf(hosts.list(), opts.temporal);
    for (const h of hosts.list()) hosts.setNames(h.name, names);
    d = new HostsDeployment(hosts, opts);
    const dep = d;
    const { settings } = dep;
    const labPlatforms = apiLabPlatforms(opts.config);
    progress(`deployment: ${HOST_NAMES.length} hosts on ${hosts.bridge} (${hosts.subnet}); logs in ${dep.logDir}`);

    await timed(dep, 'databases, S3, mail, git', async () => {
      const reposDir = join(dep.hostDir('git'), 'repositories');
      mkdirSync(reposDir, { recursive: true });
      for (const [name, path] of Object.entries(opts.repositories)) {
        if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new Error(`repository name ${JSON.stringify(name)}`);
        const { symlinkSync } = require('node:fs') as typeof import('node:fs');
        symlinkSync(path, join(reposDir, name));
      }
      const git = findOnPath('git');
      if (!git) throw new Error('git not found on PATH');
      const mail = hosts.host('mail').address;
      const gitHost = hosts.host('git').address;
      await Promise.all([
        addPostgres(dep, 'temporal-db', 'temporal', settings.TEMPORAL_DB_PASSWORD, 'temporal'),
        addPostgres(dep, 'results-db', 'bootfarm', settings.BOOTFARM_DB_PASSWORD, 'bootfarm'),
        // the bucket, made with the admin key: the services' key may not create buckets
        addSeaweed(dep).then(() =>
          createBucket(dep.s3Endpoint, settings.S3_ADMIN_ACCESS_KEY_ID, settings.S3_ADMIN_SECRET_ACCESS_KEY),
        ),
        addProcess(
          dep,
          'mail',
          process.execPath,
          [
            '--require',
            TSX,
            join(PROJECT_ROOT, 'deploy', 'smtpSink.ts'),
            '--host',
            mail,
            '--port',
            String(PORTS.smtp),
            '--dir',
            dep.mailDir,
          ],
          tcpAnswers(mail, PORTS.smtp),
        ),
        addProcess(
          dep,
          'git',
          git,
          [
            'daemon',
            '--reuseaddr',
            '--export-all',
            `--base-path=${reposDir}`,
            `--listen=${gitHost}`,
            `--port=${PORTS.git}`,
            reposDir,
          ],
          tcpAnswers(gitHost, PORTS.git),
        ),
      ]);
    });
    progress(`deployment: databases, S3, mail and git up (${dep.startup['databases, S3, mail, git']} ms)`);

    // The results database needs no Temporal: migrations and the API lab's registration run while the cluster
    // comes up; the Web UI starts beside the Bootfarm services (none of them needs it).
    const migrate = BOOTFARM_SERVICES.find((s) => s.kind === 'migrate') as BootfarmService;
    dep.prepareHost(migrate);
    const migrateEnv = dep.environment(migrate);
    await Promise.all([
      opts.temporal === 'dev-server'
        ? timed(dep, 'Temporal', () => startDevServer(dep))
        : timed(dep, 'Temporal', () => startCluster(dep, progress)),
      timed(dep, 'migrations, API lab', async () => {
        progress(`deployment: ${(await dep.runOnHost('migrate', migrate.command, migrateEnv)).trim()}`);
        const platforms = labPlatforms.flatMap((p) => ['--platform', p]);
        await dep.runOnHost('migrate', ['lab', 'add', LABS.api, '--adapter', 'api', ...platforms], migrateEnv);
        dep.labToken = (await dep.runOnHost('migrate', ['lab', 'token', LABS.api], migrateEnv)).trim();
      }),
    ]);

    const uiHost = hosts.host('temporal-ui');
    const startUi = async () => {
      dep.ui = await startTemporalUi({
        temporalAddress: `dns:///temporal-frontend:${PORTS.temporalFrontend}`,
        host: uiHost.address,
        port: PORTS.temporalUi,
        prefix: uiHost.prefix,
        logFile: join(dep.logDir, 'temporal-ui.log'),
      });
    };
    dep.addHosted('temporal-ui', {
      start: startUi,
      stop: async () => dep.ui?.stop(),
      running: () => !!dep.ui?.service.running(),
      pid: () => dep.ui?.service.child.pid,
    });
    // the API lab in its city: it needs only the dashboard
    const startApiLab = () =>
      timed(dep, 'API lab client', async () => {
        const dir = dep.hostDir('api-lab');
        mkdirSync(dir, { recursive: true });
        await addProcess(
          dep,
          'api-lab',
          process.execPath,
          [
            '--require',
            TSX,
            join(PROJECT_ROOT, 'deploy', 'apiLabClient.ts'),
            '--dashboard',
            settings.DASHBOARD_URL,
            '--lab',
            LABS.api,
            '--work-dir',
            join(dir, 'work'),
            '--boards',
            String(opts.apiLabBoards ?? 2),
          ],
          async () => {
            const [lab] = await dep.sql<{ polled: boolean }[]>`
              select last_poll_at is not null as polled from labs where name = ${LABS.api}`;
            return lab?.polled || undefined;
          },
          { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, BOOTFARM_LAB_TOKEN: dep.labToken },
        );
      });
    await Promise.all([
      timed(dep, 'Web UI', startUi),
      timed(dep, 'Bootfarm services', async () => {
        progress('deployment: starting the orchestrators (bundling workflow code), builders, lab workers, dashboard…');
        const readyBy: Record<string, (s: BootfarmService) => (pid: number) => Promise<boolean | undefined>> = {
          orchestrator: () => (pid) => dep.polling(taskQueues.orchestrator, pid, 'workflow'),
          builder: () => (pid) => dep.polling(taskQueues.build(), pid),
          // a lab worker polls one queue per platform of its lab (its boards)
          lab: (s) => async (pid) => {
            const lab = s.command[s.command.indexOf('--lab') + 1];
            const queues = labPlatformQueues(opts.config, lab);
            const polled = await Promise.all(queues.map((q) => dep.polling(q, pid)));
            return polled.every(Boolean) || undefined;
          },
          dashboard: () => async () => {
            const res = await fetch(`${dep.dashboardUrl}/api/labs`, { signal: AbortSignal.timeout(2000) });
            return res.ok || undefined;
          },
        };
        const services = BOOTFARM_SERVICES.filter((s) => !s.oneShot);
        for (const s of services) dep.addBootfarmService(s, readyBy[s.kind](s));
        await Promise.all(
          services.map((s) => dep.start(s.name).then(() => (s.kind === 'dashboard' ? startApiLab() : undefined))),
        );
      }),
    ]);

    dep.startup.total = Date.now() - t0;
    progress(`deployment: up in ${Math.round(dep.startup.total / 1000)} s`);
    return dep;
  } catch (e) {
    if (d) await d.teardown();
    else await hosts.teardown();
    throw e;
  }
}
