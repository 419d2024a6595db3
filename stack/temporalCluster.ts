/**
 * A real Temporal server cluster, not the dev server: N nodes of the server
 * built by scripts/build-temporal.js, each running frontend, history,
 * matching and worker in one process, configured by
 * deploy/temporal/server.yaml, on PostgreSQL (persistence and visibility,
 * schemas by the server's own temporal-sql-tool). Nodes find each other
 * through the database (membership), so any one can be killed while the
 * others carry on. Every process is bound to the life of its starter
 * (childProcess.ts) and may run through a prefix, say inside a host of
 * netHosts.ts. The caller must be able to reach the nodes' addresses.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_NAMES } from '../domain/searchAttributes';
import { startService, untilReady, type Service } from './childProcess';
import { waitFor } from './ports';
import { goBuildDir, PROJECT_ROOT } from '../plumbing/tools';

const CONFIG_FILE = join(PROJECT_ROOT, 'deploy', 'temporal', 'server.yaml');
const DYNAMIC_CONFIG_FILE = join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');
const UI_CONFIG_ROOT = join(PROJECT_ROOT, 'deploy', 'temporal');

export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  /** temporal */
  database?: string;
  /** temporal_visibility */
  visibilityDatabase?: string;
}

export interface TemporalNodePorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
}

/** Temporal's own defaults: right for nodes with an address each. */
export const DEFAULT_NODE_PORTS: Readonly<TemporalNodePorts> = {
  frontend: 7233,
  frontendHttp: 7243,
  history: 7234,
  matching: 7235,
  worker: 7239,
  frontendMembership: 6933,
  historyMembership: 6934,
  matchingMembership: 6935,
  workerMembership: 6939,
};

/** Nine consecutive ports from `base`, for nodes that share an address. */
export function nodePortsFrom(base: number): TemporalNodePorts {
  const names = Object.keys(DEFAULT_NODE_PORTS) as (keyof TemporalNodePorts)[];
  return Object.fromEntries(names.map((n, i) => [n, base + i])) as unknown as TemporalNodePorts;
}

export interface TemporalNodeSpec {
  /** A name for logs and kill/restart: letters, digits, '-'. */
  name: string;
  /** The node's address: its services bind to it, the other nodes and clients reach it there. */
  address: string;
  ports?: Partial<TemporalNodePorts>;
  /** argv the node runs through, say `ip netns exec NS` (netHosts.ts). */
  prefix?: string[];
}

export interface TemporalClusterOptions {
  db: TemporalDatabase;
  nodes: TemporalNodeSpec[];
  /** Logs go to <dir>/<node>.log. */
  dir: string;
  /** Fixed when the cluster's database is first set up; 4 by default. */
  historyShards?: number;
  /** The namespace to register with Bootfarm's search attributes: default. */
  namespace?: string;
  retentionDays?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long one node may take to answer after its start (90 s). */
  startTimeoutMs?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

function frontendOf(spec: TemporalNodeSpec): string {
  return `${spec.address}:${spec.ports?.frontend ?? DEFAULT_NODE_PORTS.frontend}`;
}

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** The cause in temporal-sql-tool's output: its last ERROR log line (time, level, message, JSON fields). */
function sqlToolError(output: string): string {
  const lines = output.replace(ANSI_COLOUR, '').trim().split('\n');
  const line = [...lines].reverse().find((l) => l.split('\t')[1] === 'ERROR') ?? lines[lines.length - 1] ?? '';
  const [, , message, fields] = line.split('\t');
  if (!message) return line.slice(0, 400);
  let cause: unknown;
  try {
    cause = (JSON.parse(fields) as { error?: unknown }).error;
  } catch {
    /* no fields */
  }
  return `${message.replace(/\.$/, '')}${typeof cause === 'string' ? `: ${cause}` : ''}`;
}

function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(err.killed ? `no answer in ${timeoutMs / 1000} s` : sqlToolError(`${stdout}${stderr}`)));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/**
 * Creates Temporal's two databases and brings their schemas to the
 * versions this server release ships, with the server's own
 * temporal-sql-tool and the schema files of the same module version.
 * Idempotent: an up-to-date database is left as it is.
 */
export async function setupTemporalSchemas(db: TemporalDatabase, opts: { prefix?: string[] } = {}): Promise<void> {
  const dir = goBuildDir('temporal-server');
  const tool = join(dir, 'bin', 'temporal-sql-tool');
  // Connection settings through the environment: the password stays out of argv (ps).
  const base = {
    PATH: process.env.PATH,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: db.host,
    SQL_PORT: String(db.port),
    SQL_USER: db.user,
    SQL_PASSWORD: db.password,
  };
  for (const [database, schema] of [
    [db.database ?? 'temporal', 'temporal'],
    [db.visibilityDatabase ?? 'temporal_visibility', 'visibility'],
  ]) {
    const env = { ...base, SQL_DATABASE: database };
    const versioned = join(dir, 'schema', 'postgresql', 'v12', schema, 'versioned');
    const steps: [string, string[]][] = [
      ['create-database', ['create-database', '--defaultdb', 'postgres']],
      ['setup-schema', ['setup-schema', '-v', '0.0']],
      ['update-schema', ['update-schema', '-d', versioned]],
    ];
    for (const [step, args] of steps) {
      try {
        await run([...(opts.prefix ?? []), tool, '--plugin', 'postgres12', ...args], env, 120_000);
      } catch (e) {
        throw new Error(
          `temporal-sql-tool ${step} of database ${database} on ${db.host}:${db.port}: ${(e as Error).message}`,
        );
      }
    }
  }
}

/**
 * The environment deploy/temporal/server.yaml reads, for one node of a
 * cluster whose first node is `first` (it names the cluster in its metadata,
 * the same for every node).
 */
export function nodeEnvironment(
  spec: TemporalNodeSpec,
  first: TemporalNodeSpec,
  db: TemporalDatabase,
  opts: Pick<TemporalClusterOptions, 'historyShards' | 'logLevel'> = {},
): Record<string, string> {
  const p = { ...DEFAULT_NODE_PORTS, ...spec.ports };
  const firstPorts = { ...DEFAULT_NODE_PORTS, ...first.ports };
  return {
    TEMPORAL_CLUSTER_ADDRESS: `${first.address}:${firstPorts.frontend}`,
    TEMPORAL_CLUSTER_HTTP_ADDRESS: `${first.address}:${firstPorts.frontendHttp}`,
    TEMPORAL_NODE_ADDRESS: spec.address,
    TEMPORAL_DB_HOST: db.host,
    TEMPORAL_DB_PORT: String(db.port),
    TEMPORAL_DB_USER: db.user,
    TEMPORAL_DB_PASSWORD: db.password,
    TEMPORAL_DB_NAME: db.database ?? 'temporal',
    TEMPORAL_VISIBILITY_DB_NAME: db.visibilityDatabase ?? 'temporal_visibility',
    TEMPORAL_HISTORY_SHARDS: String(opts.historyShards ?? 4),
    TEMPORAL_LOG_LEVEL: opts.logLevel ?? 'warn',
    TEMPORAL_DYNAMIC_CONFIG: DYNAMIC_CONFIG_FILE,
    TEMPORAL_FRONTEND_PORT: String(p.frontend),
    TEMPORAL_FRONTEND_HTTP_PORT: String(p.frontendHttp),
    TEMPORAL_HISTORY_PORT: String(p.history),
    TEMPORAL_MATCHING_PORT: String(p.matching),
    TEMPORAL_WORKER_PORT: String(p.worker),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
  };
}

async function answers(address: string, probe: (c: Connection) => Promise<unknown>): Promise<true> {
  const conn = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await probe(conn);
    return true;
  } finally {
    await conn.close();
  }
}

export interface TemporalNode {
  spec: TemporalNodeSpec;
  /** host:port of the node's frontend (gRPC). */
  address: string;
  logFile: string;
  service?: Service;
}

export class TemporalCluster {
  readonly nodes: TemporalNode[];
  readonly namespace: string;

  constructor(private readonly opts: TemporalClusterOptions) {
    this.namespace = opts.namespace ?? 'default';
    this.nodes = opts.nodes.map((spec) => ({
      spec,
      address: frontendOf(spec),
      logFile: join(opts.dir, `temporal-${spec.name}.log`),
    }));
  }

  /** Frontend addresses of the nodes started and not stopped. */
  addresses(): string[] {
    return this.nodes.filter((n) => n.service?.running()).map((n) => n.address);
  }

  node(name: string): TemporalNode {
    const n = this.nodes.find((x) => x.spec.name === name);
    if (!n) throw new Error(`no Temporal node ${name} (nodes: ${this.nodes.map((x) => x.spec.name).join(', ')})`);
    return n;
  }

  /** Starts one node and waits until its frontend answers. */
  async start(name: string): Promise<void> {
    const node = this.node(name);
    if (node.service?.running()) throw new Error(`Temporal node ${name} is running already`);
    const bin = join(goBuildDir('temporal-server'), 'bin', 'temporal-server');
    // A clean environment: the server also reads TEMPORAL_* variables of its own (say TEMPORAL_ENVIRONMENT)
    // that would clash with --config-file.
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...nodeEnvironment(node.spec, this.opts.nodes[0], this.opts.db, this.opts),
    };
    const args = ['--config-file', CONFIG_FILE, '--allow-no-auth', 'start'];
    for (const s of ['frontend', 'history', 'matching', 'worker']) args.push('--service', s);
    const service = startService(`temporal-${name}`, bin, args, node.logFile, { env, prefix: node.spec.prefix });
    node.service = service;
    const timeout = this.opts.startTimeoutMs ?? 90_000;
    try {
      await untilReady(
        service,
        `Temporal node ${name} on ${node.address}`,
        () => answers(node.address, (c) => c.workflowService.getSystemInfo({})),
        timeout,
        500,
      );
    } catch (e) {
      node.service = undefined;
      throw e;
    }
  }

  /** Kills a node at once (SIGKILL, as a crash or a pulled plug would end it). */
  async kill(name: string): Promise<void> {
    const node = this.node(name);
    const service = node.service;
    node.service = undefined;
    await service?.kill();
  }

  /** Stops a node gracefully (SIGTERM: it leaves the membership ring first). */
  async stop(name: string): Promise<void> {
    const node = this.node(name);
    const service = node.service;
    node.service = undefined;
    await service?.stop(20_000);
  }

  async restart(name: string): Promise<void> {
    await this.kill(name);
    await this.start(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stop(n.spec.name)));
  }

  /**
   * Registers the namespace and Bootfarm's search attributes on the running
   * nodes (registerBootfarmNamespace).
   */
  async registerNamespace(): Promise<void> {
    await registerBootfarmNamespace(this.addresses(), this.namespace, this.opts.retentionDays);
  }

  /** A connection to the first running node that answers. */
  connectAny(): Promise<Connection> {
    return connectFirst(this.addresses());
  }
}

/**
 * Sets up the schemas (idempotently), starts every node, waits until each
 * answers, and registers the namespace with Bootfarm's search attributes.
 * Progress goes to `progress` (one line per step). On failure everything
 * started is stopped again.
 */
export async function startTemporalCluster(
  opts: TemporalClusterOptions,
  progress: (line: string) => void = () => {},
): Promise<TemporalCluster> {
  if (!opts.nodes.length) throw new Error('a Temporal cluster needs at least one node');
  for (const n of opts.nodes)
    if (!NAME.test(n.name)) throw new Error(`Temporal node name ${JSON.stringify(n.name)}: letters, digits and '-'`);
  const fronts = opts.nodes.map(frontendOf);
  fronts.forEach((address, i) => {
    const other = fronts.indexOf(address);
    if (other !== i)
      throw new Error(
        `Temporal nodes ${opts.nodes[other].name} and ${opts.nodes[i].name} share the frontend address ${address}`,
      );
  });
  mkdirSync(opts.dir, { recursive: true });
  progress(`Temporal: schemas on ${opts.db.host}:${opts.db.port}…`);
  await setupTemporalSchemas(opts.db, { prefix: opts.nodes[0].prefix });
  const cluster = new TemporalCluster(opts);
  try {
    progress(`Temporal: starting ${opts.nodes.length} node(s) (${fronts.join(', ')})…`);
    // The first node alone: on a fresh database it creates the cluster's metadata record, which nodes starting at
    // the same moment would race to create (the loser exits). Later starts only read it: restarts may overlap.
    await cluster.start(opts.nodes[0].name);
    await Promise.all(opts.nodes.slice(1).map((n) => cluster.start(n.name)));
    progress(`Temporal: namespace ${cluster.namespace} and search attributes…`);
    await cluster.registerNamespace();
  } catch (e) {
    await cluster.stopAll();
    throw e;
  }
  return cluster;
}

async function connectFirst(addresses: string[]): Promise<Connection> {
  for (const address of addresses) {
    try {
      return await Connection.connect({ address, connectTimeout: 2000 });
    } catch {
      /* try the next */
    }
  }
  throw new Error(`no Temporal node answers (${addresses.join(', ') || 'none given'})`);
}

/**
 * Registers a namespace and Bootfarm's search attributes (those missing:
 * idempotent) through the first of the frontends that answers, then waits
 * until every one of them accepts a query on them: a node learns of a new
 * namespace or attribute on its next cache refresh, not at once.
 */
export async function registerBootfarmNamespace(
  addresses: string[],
  namespace = 'default',
  retentionDays = 7,
): Promise<void> {
  const conn = await connectFirst(addresses);
  const { IndexedValueType } = temporal.api.enums.v1;
  try {
    try {
      await conn.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
      });
    } catch (e) {
      if ((e as { code?: number }).code !== 6) throw e; // ALREADY_EXISTS
    }
    await waitFor(
      `search attributes on namespace ${namespace}`,
      async () => {
        const have = await conn.operatorService.listSearchAttributes({ namespace });
        const missing = SEARCH_ATTRIBUTE_NAMES.filter((n) => !(n in (have.customAttributes ?? {})));
        if (!missing.length) return true;
        await conn.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((n) => [n, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
        });
        return undefined;
      },
      60_000,
      1000,
    );
  } finally {
    await conn.close();
  }
  const query = SEARCH_ATTRIBUTE_NAMES.map((n) => `${n} = 'probe'`).join(' AND ');
  await Promise.all(
    addresses.map((address) =>
      waitFor(
        `namespace ${namespace} with Bootfarm's search attributes on ${address}`,
        () => answers(address, (c) => c.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 })),
        60_000,
        1000,
      ),
    ),
  );
}

export interface TemporalUi {
  url: string;
  service: Service;
  stop(): Promise<void>;
}

/**
 * The Temporal Web UI server (deploy/temporal/ui/base.yaml) on host:port,
 * talking to `temporalAddress`: host:port of one frontend, or a gRPC target
 * such as dns:///name:port whose name resolves to every frontend, so that the
 * UI fails over when a node dies.
 */
export async function startTemporalUi(opts: {
  temporalAddress: string;
  host: string;
  port: number;
  logFile: string;
  prefix?: string[];
  publicUrl?: string;
}): Promise<TemporalUi> {
  const bin = join(goBuildDir('temporal-ui-server'), 'bin', 'temporal-ui-server');
  const url = `http://${opts.host}:${opts.port}`;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TEMPORAL_ADDRESS: opts.temporalAddress,
    TEMPORAL_UI_HOST: opts.host,
    TEMPORAL_UI_PORT: String(opts.port),
    TEMPORAL_UI_PUBLIC_URL: opts.publicUrl ?? url,
  };
  const service = startService(
    'temporal-ui',
    bin,
    ['--root', UI_CONFIG_ROOT, '--config', 'ui', '--env', 'bootfarm', 'start'],
    opts.logFile,
    { env, prefix: opts.prefix },
  );
  await untilReady(
    service,
    `Temporal Web UI on ${url}`,
    async () => ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined),
    60_000,
    300,
  );
  return { url, service, stop: () => service.stop() };
}
