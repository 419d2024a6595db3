/**
 * The deployment's Temporal: a real server cluster built from source, on
 * hosts of this machine. PostgreSQL, two Temporal server nodes and the Web
 * UI each run in a network namespace of their own, on a bridge; this
 * process reaches them by bridge address only, as a client on another
 * machine would. A workflow is in flight when the node owning its history
 * shard crashes (SIGKILL): it must complete through the other node, which
 * takes the shard over. The crashed node restarts and serves again; the
 * Web UI lists the namespace's workflows, also with its first frontend
 * down. Afterwards nothing of the run is left: no namespace, link, bridge
 * or process.
 *
 * Costs about a minute and a half on top of the server build (cached in
 * .tools/, see BENCHMARKS.md).
 */
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/searchAttributes';
import { NetHosts, type NetHost } from '../../stack/netHosts';
import { startPostgres, type PostgresServer } from '../../stack/postgres';
import {
  setupTemporalSchemas,
  startTemporalCluster,
  startTemporalUi,
  type TemporalCluster,
  type TemporalDatabase,
  type TemporalUi,
} from '../../stack/temporalCluster';
import { waitFor } from '../../stack/ports';
import { testDir, uniqueId } from '../harness/services';
import { isAlive } from './support/processTree';
import { proceed, stepSignalStep } from './support/clusterWorkflow';

const PG_PORT = 5432;
const UI_PORT = 8080;

let hosts: NetHosts | undefined;
let pg: PostgresServer | undefined;
let cluster: TemporalCluster | undefined;
let ui: TemporalUi | undefined;
let pgHost: NetHost;
let db: TemporalDatabase;
let temporalDb: Sql | undefined;
const taskQueue = uniqueId('cluster-');
const connections: { close(): Promise<void> }[] = [];
const workers: { node: string; worker: Worker; running: Promise<void> }[] = [];
/** Every activity call, in order. */
const calls: string[] = [];

/** The `owner` (field 3, a string) of a persisted ShardInfo protobuf: the history host holding the shard. */
function shardOwner(data: Buffer): string {
  let i = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = data[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (i < data.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (tag >>> 3 === 3) return data.subarray(i, i + len).toString('utf8');
      i += len;
    } else throw new Error(`ShardInfo: wire type ${wire}`);
  }
  throw new Error('ShardInfo without owner');
}

async function ownerOfWorkflow(workflowId: string): Promise<string> {
  const [row] = await temporalDb!<{ owner: Buffer }[]>`
    select s.data as owner from executions e join shards s using (shard_id) where e.workflow_id = ${workflowId}`;
  if (!row) throw new Error(`no execution ${workflowId} in the persistence database`);
  return shardOwner(row.owner);
}

async function clientOf(address: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  connections.push(connection);
  return new Client({ connection });
}

/** Workers being shut down; a worker whose node is dead may take a while. */
const draining: Promise<unknown>[] = [];

/** Shuts workers down (those of one node, or all); `wait` for them at most 10 s each. */
async function stopWorkers(node?: string, wait = true): Promise<void> {
  for (const w of workers.filter((x) => !node || x.node === node)) {
    workers.splice(workers.indexOf(w), 1);
    if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    const done = Promise.race([w.running, new Promise((r) => setTimeout(r, 10_000))]);
    if (wait) await done;
    else draining.push(done);
  }
}

async function historyHas(handle: WorkflowHandle, event: 'activityTaskCompletedEventAttributes'): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e[event]).length;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(testDir(), 'cluster-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as an unprivileged user when the tests run as root
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  hosts = await NetHosts.create();
  pgHost = hosts.add('pg');
  const nodes = ['temporal-1', 'temporal-2'].map((name) => hosts!.add(name));
  const uiHost = hosts.add('temporal-ui');
  pg = await startPostgres({
    dataDir: join(dir, 'pg'),
    port: PG_PORT,
    host: pgHost.address,
    allowFrom: hosts.subnet,
    prefix: pgHost.prefix,
    logFile: join(dir, 'postgres.log'),
    durable: false,
  });
  db = { host: pgHost.address, port: PG_PORT, user: 'bootfarm', password: pg.password };
  cluster = await startTemporalCluster(
    { db, dir, nodes: nodes.map((h) => ({ name: h.name, address: h.address, prefix: h.prefix })) },
    progress,
  );
  temporalDb = postgres({ ...db, database: 'temporal', max: 2, onnotice: () => {} });
  // One name for both frontends: the UI's gRPC client (dns:///) fails over between them.
  hosts.setNames(uiHost.name, { 'temporal-frontend': nodes.map((h) => h.address) });
  ui = await startTemporalUi({
    temporalAddress: 'dns:///temporal-frontend:7233',
    host: uiHost.address,
    port: UI_PORT,
    prefix: uiHost.prefix,
    logFile: join(dir, 'temporal-ui.log'),
  });
  // A worker through each node, as workers on different machines would be.
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./support/clusterWorkflow'),
    logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} },
  });
  for (const node of cluster.nodes) {
    const connection = await NativeConnection.connect({ address: node.address });
    connections.push(connection);
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: { code },
      activities: {
        async step(name: string) {
          calls.push(name);
          return `done ${name}`;
        },
      },
    });
    // the worker of a crashed node may give up polling: that is its node's fault, not the test's
    workers.push({ node: node.spec.name, worker, running: worker.run().catch(() => {}) });
  }
}, 300_000);

afterAll(async () => {
  await stopWorkers();
  await Promise.all(draining);
  await Promise.all(connections.map((c) => c.close().catch(() => {})));
  await temporalDb?.end({ timeout: 2 });
  await ui?.stop();
  await cluster?.stopAll();
  await pg?.stop();
  await hosts?.teardown();
}, 120_000);

describe('a Temporal server cluster on PostgreSQL, every service a host of its own', () => {
  it('forms one cluster of two nodes, each answering on its bridge address with the namespace and search attributes', async () => {
    const members = await temporalDb!<{ rpc_address: string; roles: number }[]>`
      select rpc_address, count(distinct role)::int as roles from cluster_membership
      where record_expiry > now() at time zone 'utc' group by rpc_address order by rpc_address`;
    const nodeAddresses = cluster!.nodes.map((n) => n.spec.address).sort();
    // both nodes in the one membership table, each with frontend, history, matching and worker
    expect(members).toEqual(nodeAddresses.map((a) => ({ rpc_address: a, roles: 4 })));
    for (const node of cluster!.nodes) {
      expect(node.address.startsWith(`${hosts!.subnet.replace(/0\/24$/, '')}`)).toBe(true);
      const client = await clientOf(node.address);
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(SEARCH_ATTRIBUTE_NAMES));
    }
  });

  it('sets the schemas up idempotently, and says in one line when PostgreSQL cannot be reached', async () => {
    const versions = () => temporalDb!`select * from schema_version order by version_partition, db_name`;
    const before = await versions();
    expect(before.length).toBeGreaterThan(0);
    await setupTemporalSchemas(db, { prefix: pgHost.prefix });
    expect(await versions()).toEqual(before);

    const closed = setupTemporalSchemas({ ...db, port: 1 }, { prefix: pgHost.prefix });
    await expect(closed).rejects.toThrow(
      new RegExp(
        `^temporal-sql-tool create-database of database temporal on ${pgHost.address.replace(/\./g, '\\.')}:1: ` +
          'Unable to create SQL database: no usable database connection found$',
      ),
    );
    await expect(
      startTemporalCluster({ db, dir: testDir(), nodes: [{ name: 'bad name', address: '10.0.0.1' }] }),
    ).rejects.toThrow(`Temporal node name "bad name": letters, digits and '-'`);
    await expect(
      startTemporalCluster({
        db,
        dir: testDir(),
        nodes: [
          { name: 'a', address: '10.0.0.1' },
          { name: 'b', address: '10.0.0.1' },
        ],
      }),
    ).rejects.toThrow('Temporal nodes a and b share the frontend address 10.0.0.1:7233');
  });

  let victim: string;

  it('completes a workflow through the other node when the node owning its shard crashes mid-way', async () => {
    const [n1] = cluster!.nodes;
    const workflowId = uniqueId('crash-');
    const started = await (
      await clientOf(n1.address)
    ).workflow.start(stepSignalStep, {
      taskQueue,
      workflowId,
      args: [workflowId],
    });
    // mid-way: the first step's result is in the history, the workflow waits for the signal
    await waitFor(
      'the first step recorded',
      async () => ((await historyHas(started, 'activityTaskCompletedEventAttributes')) === 1 ? true : undefined),
      60_000,
    );

    const owner = await ownerOfWorkflow(workflowId);
    const victimNode = cluster!.nodes.find((n) => owner.startsWith(`${n.spec.address}:`));
    expect(victimNode).toBeDefined();
    victim = victimNode!.spec.name;
    const survivorNode = cluster!.nodes.find((n) => n !== victimNode)!;
    await cluster!.kill(victim);
    // its worker went down with it (it would only retry its polls against the dead node)
    void stopWorkers(victim, false);

    const client = await clientOf(survivorNode.address);
    const handle = client.workflow.getHandle<typeof stepSignalStep>(workflowId);
    // until the survivor has noticed the crash and taken the shard over, the signal is refused
    await waitFor(
      'the signal accepted by the surviving node',
      () => handle.signal(proceed).then(() => true),
      120_000,
      1000,
    );
    expect(await handle.result()).toEqual([`done ${workflowId}/1`, `done ${workflowId}/2`]);
    expect(await ownerOfWorkflow(workflowId)).toMatch(
      new RegExp(`^${survivorNode.spec.address.replace(/\./g, '\\.')}:`),
    );
    expect(calls.filter((c) => c.startsWith(workflowId))).toEqual(
      expect.arrayContaining([`${workflowId}/1`, `${workflowId}/2`]),
    );
  });

  it('restarts the crashed node, which rejoins and serves a new workflow from start to result', async () => {
    await cluster!.start(victim);
    const node = cluster!.node(victim);
    const client = await clientOf(node.address);
    const workflowId = uniqueId('rejoined-');
    const handle = await client.workflow.start(stepSignalStep, { taskQueue, workflowId, args: [workflowId] });
    await handle.signal(proceed);
    expect(await handle.result()).toEqual([`done ${workflowId}/1`, `done ${workflowId}/2`]);
    const members = await temporalDb!<{ n: number }[]>`
      select count(distinct rpc_address)::int as n from cluster_membership where record_expiry > now() at time zone 'utc'`;
    expect(members[0].n).toBe(2);
  });

  it("has the Web UI list the namespace's workflows, also with either frontend down", async () => {
    await stopWorkers(); // no more workflows to run; their polls would only retry against the nodes killed here
    const listed = async () => {
      const query = encodeURIComponent(`TaskQueue = '${taskQueue}'`);
      const res = await fetch(`${ui!.url}/api/v1/namespaces/default/workflows?query=${query}`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const body = (await res.json()) as { executions?: { execution: { workflowId: string }; status: string }[] };
      return (body.executions ?? []).map((e) => [e.execution.workflowId.replace(/-.*/, ''), e.status]).sort();
    };
    const expected = [
      ['crash', 'WORKFLOW_EXECUTION_STATUS_COMPLETED'],
      ['rejoined', 'WORKFLOW_EXECUTION_STATUS_COMPLETED'],
    ];
    expect(
      await waitFor(
        'both workflows in the Web UI',
        async () => ((await listed()).length === 2 ? listed() : undefined),
        30_000,
      ),
    ).toEqual(expected);
    // whichever frontend the UI's client picked first, one of these kills takes it away
    await cluster!.kill('temporal-1');
    expect(await waitFor('the Web UI with temporal-1 down', listed, 60_000, 1000)).toEqual(expected);
    await cluster!.start('temporal-1');
    await cluster!.kill('temporal-2');
    expect(await waitFor('the Web UI with temporal-2 down', listed, 60_000, 1000)).toEqual(expected);
  });

  it('starts again as a whole, every node at the same moment, with its workflows intact', async () => {
    await cluster!.stopAll();
    await Promise.all(cluster!.nodes.map((n) => cluster!.start(n.spec.name)));
    for (const node of cluster!.nodes) {
      const client = await clientOf(node.address);
      const ids: string[] = [];
      for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) ids.push(wf.workflowId);
      expect(ids.map((id) => id.replace(/-.*/, '')).sort()).toEqual(['crash', 'rejoined']);
    }
  });

  it('leaves no namespace, link, bridge, process or hosts file of the run behind', async () => {
    const pids = hosts!.processes();
    expect(pids.length).toBeGreaterThan(3); // PostgreSQL (several), a node, the UI
    const namespaces = hosts!.list().map((h) => h.namespace);
    await stopWorkers();
    await Promise.all(draining);
    await temporalDb!.end({ timeout: 2 });
    temporalDb = undefined;
    await ui!.stop();
    await cluster!.stopAll();
    await pg!.stop();
    await hosts!.teardown();
    await hosts!.teardown(); // twice: harmless
    expect(hosts!.remaining()).toEqual({ bridges: [], links: [], namespaces: [] });
    expect(pids.filter(isAlive)).toEqual([]);
    expect(namespaces.filter((ns) => existsSync(join('/etc/netns', ns)))).toEqual([]);
  });
});
