/**
 * The deployment's service commands as an operator runs them: `bootfarm db
 * migrate`, `bootfarm worker orchestrator|builder|lab`, `bootfarm dashboard`,
 * each a process of its own with only its own secrets, against a Temporal
 * dev server, a PostgreSQL and a SeaweedFS S3 that this file starts (so it
 * can stop and start them) and with bucket-scoped S3 credentials per kind.
 *
 * What would embarrass the services in front of an operator: a SIGTERM that
 * throws away the build or boot in progress; a dependency that goes away for
 * a while and either kills the service or floods its log; a dashboard that
 * other hosts cannot reach; a dashboard restart that cuts a download.
 * About 3–4 minutes (one real pipeline, one drain each, two outages, three
 * short pipelines).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import postgres from 'postgres';
import { Client, Connection } from '@temporalio/client';
import { createFixtureRepo, headSha, type FixtureRepo } from '../../fixtures/generator';
import { loadConfig } from '../../plumbing/loadConfig';
import { S3Store } from '../../plumbing/store/s3Store';
import { forcedRunName, startRevision } from '../../plumbing/temporal/schedules';
import { buildBootWorkflowId, pipelineSpecFor, revisionWorkflowId } from '../../domain/pipelineSpec';
import { secretEnvVarsFor, secretEnvVarsIn, type ServiceKind } from '../../domain/serviceSecrets';
import type { BootfarmConfig } from '../../domain/config';
import { startTemporal, type TemporalServer } from '../../stack/temporalServer';
import { startPostgres, type PostgresServer } from '../../stack/postgres';
import { startSeaweedS3, type SeaweedS3 } from '../../stack/seaweedfs';
import { freePort } from '../../stack/ports';
import { descendants, processes } from './support/processTree';
import { NetHosts, type NetHost } from '../../stack/netHosts';
import { until } from '../harness/until';
import { testConfigYaml } from '../support/testConfig';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'bootfarm.js');
const BUCKET = 'artifacts';
const ADMIN_TOKEN = randomBytes(16).toString('hex');
const UI_URL = 'http://temporal-ui.example:8080';
/** the board's boot takes this long (the fixture kernel waits): a lab worker is stopped well inside it */
const BOOT_DELAY_S = 6;

let dir: string;
let hosts: NetHosts;
let other: NetHost;
let repo: FixtureRepo;
let sha: string;
let temporal: TemporalServer;
let temporalPort: number;
let pg: PostgresServer;
let pgPort: number;
let s3: SeaweedS3;
let sql: postgres.Sql;
let connection: Connection;
let client: Client;
let config: BootfarmConfig;
let configFile: string;
let slowBin: string;
let dashboardUrl: string;
const running: ServiceProcess[] = [];
const services: Partial<Record<'orchestrator' | 'builder' | 'lab' | 'dashboard', ServiceProcess>> = {};

interface ServiceProcess {
  kind: ServiceKind;
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** lines of its stdout matching `pattern` */
  lines(pattern: RegExp): string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  /** sends the signal (to the service's own process, as `docker stop` and systemd's KillMode=mixed do) */
  signal(sig: NodeJS.Signals): void;
}

/** What each kind is given, as the deployment gives it: its own S3 identity, and its own secrets. */
function environmentOf(kind: ServiceKind): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(BOOTFARM_|DATABASE_URL|TEMPORAL_|S3_|AWS_|SMTP_URL)/.test(k)) base[k] = v;
  if (kind === 'migrate') return { ...base, DATABASE_URL: pg.url };
  const s3Keys = { S3_ACCESS_KEY_ID: `${kind}-key`, S3_SECRET_ACCESS_KEY: `${kind}-secret` };
  const shared = { ...base, S3_ENDPOINT: s3.endpoint, S3_BUCKET: BUCKET, ...s3Keys };
  if (kind === 'orchestrator') return { ...shared, DATABASE_URL: pg.url };
  if (kind === 'dashboard') return { ...shared, DATABASE_URL: pg.url, BOOTFARM_ADMIN_TOKEN: ADMIN_TOKEN };
  if (kind === 'builder') return { ...shared, PATH: `${slowBin}:${base.PATH}` };
  return shared;
}

function startProcess(kind: ServiceKind, args: string[]): ServiceProcess {
  const child = spawn(process.execPath, [BIN, ...args, '--config', configFile], {
    cwd: dir,
    env: environmentOf(kind),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const p: ServiceProcess = {
    kind,
    child,
    pid: child.pid as number,
    stdout: () => out,
    stderr: () => err,
    lines: (pattern) => out.split('\n').filter((l) => pattern.test(l)),
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null)
          throw new Error(`${kind} exited (${child.exitCode}) before ${pattern}:\n${out}${err}`);
        if (Date.now() > deadline) throw new Error(`${kind}: timed out waiting for ${pattern}:\n${out}${err}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    exited,
    signal: (sig) => child.kill(sig),
  };
  running.push(p);
  return p;
}

const startBuilder = () => startProcess('builder', ['worker', 'builder']);
const startLab = () => startProcess('lab', ['worker', 'lab', '--lab', 'qemu-lab']);

/** A revision of tree `svc` (the head, or a forced re-run), started as `bootfarm run` starts one. */
async function revision(run?: string) {
  const input = { ...pipelineSpecFor(config, 'svc', 'master'), sha, ...(run ? { run } : {}) };
  await startRevision(client, input);
  return { input, handle: client.workflow.getHandle(revisionWorkflowId(input)) };
}

/** Attempts of each activity of a buildBoot workflow, by activity type. */
async function attempts(input: { tree: string; sha: string; run?: string }): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(buildBootWorkflowId(input, 'x86_64-defconfig')).fetchHistory();
  const types = new Map<string, string>();
  const out: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = types.get(String(started.scheduledEventId)) ?? '';
      out[type] = Math.max(out[type] ?? 0, started.attempt ?? 0);
    }
  }
  return out;
}

function httpGet(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bf-services-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as an unprivileged user when the tests run as root
  hosts = await NetHosts.create();
  other = hosts.add('client');
  repo = await createFixtureRepo(join(dir, 'tree'));
  sha = await headSha(repo);
  [temporalPort, pgPort] = [await freePort(), await freePort()];
  const identity = (kind: string, actions: string[]) => ({
    name: kind,
    accessKeyId: `${kind}-key`,
    secretAccessKey: `${kind}-secret`,
    actions: actions.map((a) => `${a}:${BUCKET}`),
  });
  [temporal, pg, s3] = await Promise.all([
    startTemporal({
      port: temporalPort,
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
      headless: true,
    }),
    startPostgres({ dataDir: join(dir, 'pg'), port: pgPort, logFile: join(dir, 'postgres.log') }),
    startSeaweedS3({
      dataDir: join(dir, 's3'),
      identities: [
        identity('orchestrator', ['Read', 'Write', 'List']),
        identity('builder', ['Read', 'Write', 'List']),
        identity('lab', ['Read', 'Write', 'List']),
        identity('dashboard', ['Read', 'List']),
      ],
    }),
  ]);
  const admin = new S3Store({
    endpoint: s3.endpoint,
    bucket: BUCKET,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await admin.init();
  admin.close();
  sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  connection = await Connection.connect({ address: temporal.address });
  client = new Client({ connection });

  // gcc that takes a second per file: the build is long enough to be stopped in the middle
  slowBin = join(dir, 'slow-bin');
  mkdirSync(slowBin);
  writeFileSync(join(slowBin, 'gcc'), '#!/bin/sh\nsleep 1\nexec /usr/bin/gcc "$@"\n');
  chmodSync(join(slowBin, 'gcc'), 0o755);

  // One config file for every host, with no secret in it: those come from each host's environment.
  configFile = join(dir, 'bootfarm.yaml');
  const q = JSON.stringify;
  writeFileSync(
    configFile,
    testConfigYaml({
      dataDir: q(join(dir, 'data')),
      head: `temporal: { address: ${q(temporal.address)}, uiUrl: ${q(UI_URL)} }
email: { outbox: ${q(join(dir, 'outbox'))} }
builder: { workDir: ${q(join(dir, 'builder'))}, ccache: false, jobs: 2, shutdownGrace: 5m }
metrics: { port: 0, temporalPort: 0 }`,
      tree: 'svc',
      url: q(repo.url),
      branches: '[{ name: master, interval: 1h }]',
      platform: 'slow-pc',
      platformOptions: `kernelArgs: fixture.delay=${BOOT_DELAY_S}, bootTimeout: 60s`,
      lab: 'qemu-lab',
    }),
  );
  config = loadConfig(configFile, {});

  const migrate = startProcess('migrate', ['db', 'migrate']);
  expect({ code: await migrate.exited, stderr: migrate.stderr() }).toEqual({ code: 0, stderr: '' });
  expect(migrate.stdout()).toMatch(/^applied: 001_init/);

  services.orchestrator = startProcess('orchestrator', ['worker', 'orchestrator']);
  services.builder = startBuilder();
  services.lab = startLab();
  services.dashboard = startProcess('dashboard', ['dashboard', '--host', hosts.address, '--port', '0']);
  await Promise.all([
    services.orchestrator.waitFor(/polling bootfarm/, 240_000),
    services.builder.waitFor(/polling build on /, 60_000),
    services.lab.waitFor(/polling lab-qemu-lab-slow-pc on /, 60_000),
  ]);
  dashboardUrl = (await services.dashboard.waitFor(/listening on (http:\/\/\S+)/, 60_000))[1];
}, 400_000);

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.signal('SIGTERM');
  const codes = await Promise.all(
    running.map(async (p) => {
      const timer = setTimeout(() => p.signal('SIGKILL'), 30_000);
      const code = await p.exited;
      clearTimeout(timer);
      return { kind: p.kind, code };
    }),
  );
  // each service's log, kept beside the run's data for whoever reads a failure
  for (const p of running) writeFileSync(join(dir, `${p.kind}-${p.pid}.log`), p.stdout() + p.stderr());
  await sql?.end({ timeout: 1 });
  await connection?.close();
  await Promise.all([temporal?.stop(), pg?.stop(), s3?.stop()]);
  await hosts?.teardown();
  // every service exits 0 on SIGTERM, and nothing of this file outlives it
  expect(codes.filter((c) => c.code !== 0)).toEqual([]);
  const left = processes().filter((p) => p.argv.some((a) => a.includes(dir)));
  expect(left.map((p) => `${p.pid} ${p.argv.join(' ')}`)).toEqual([]);
}, 120_000);

describe('the service commands of a deployment', () => {
  it('each holds exactly the secrets of its kind, and logs where it works in one line', () => {
    for (const p of Object.values(services) as ServiceProcess[]) {
      const environ = Object.fromEntries(
        readFileSync(`/proc/${p.pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      const held = secretEnvVarsIn(environ);
      const expected = {
        orchestrator: ['DATABASE_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
        builder: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
        lab: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
        dashboard: ['DATABASE_URL', 'BOOTFARM_ADMIN_TOKEN', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
      }[p.kind as 'orchestrator'];
      expect({ kind: p.kind, held: held.sort() }).toEqual({ kind: p.kind, held: expected.sort() });
      expect(held.every((v) => secretEnvVarsFor(p.kind).includes(v))).toBe(true);
      // one event per line, each stamped; nothing on stderr; no secret in the log
      for (const line of p.stdout().trim().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \S/);
      expect(p.stderr()).toBe('');
      for (const secret of [ADMIN_TOKEN, `${p.kind}-secret`, 'bootfarm:bootfarm@'])
        expect(p.stdout()).not.toContain(secret);
    }
    expect(services.orchestrator?.stdout()).toMatch(
      /recorded 1 trees, 1 platforms, 1 labs; tree schedules: monitor:svc:master/,
    );
  });

  it('the dashboard answers another host on its address (not loopback), with the operator API on', () => {
    expect(dashboardUrl).toBe(`http://${hosts.address}:${new URL(dashboardUrl).port}`);
    const script = `fetch(${JSON.stringify(`${dashboardUrl}/api/trees`)}).then(async (r) => console.log(r.status, await r.text()))`;
    const r = spawnSync(other.prefix[0], [...other.prefix.slice(1), process.execPath, '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^200 .*"svc"/);
    expect(services.dashboard?.stdout()).toMatch(
      /operator API on; .*workflow links to http:\/\/temporal-ui\.example:8080\)/,
    );
  });

  it('a builder stopped mid-build finishes that build first (attempt 1, recorded), then exits 0', async () => {
    const { input, handle } = await revision();
    const builder = services.builder as ServiceProcess;
    const log = join(dir, 'builder', 'builds', 'svc', 'x86_64-defconfig', 'build.log');
    await until(
      'the builder compiling',
      () => (existsSync(log) && / CC /.test(readFileSync(log, 'utf8')) ? true : undefined),
      180_000,
    );
    builder.signal('SIGTERM');
    await builder.waitFor(
      /draining \(SIGTERM\): finishing 1 running task\(s\) within 300s, taking no new ones/,
      10_000,
    );
    expect(await builder.exited).toBe(0);
    expect(builder.stdout()).toMatch(/stopped\n$/);
    const [build] = await until(
      'the build recorded',
      async () => {
        const rows = await sql`select status from builds where tree = 'svc'`;
        return rows.length ? rows : undefined;
      },
      60_000,
    );
    expect(build.status).toBe('pass');

    // the boot: the lab worker is stopped while QEMU runs the kernel, and lets the boot finish
    const lab = services.lab as ServiceProcess;
    await until(
      'QEMU running under the lab worker',
      () => (descendants(lab.pid).some((p) => basename(p.argv[0] ?? '').startsWith('qemu-system')) ? true : undefined),
      120_000,
    );
    lab.signal('SIGTERM');
    await lab.waitFor(/draining \(SIGTERM\): finishing 1 running task\(s\)/, 10_000);
    expect(await lab.exited).toBe(0);
    const report = await handle.result();
    expect(report.result).toBe('pass');
    expect(report.counts.boots).toMatchObject({ total: 1, pass: 1, offline: 0 });
    expect(await attempts(input)).toEqual({ buildKernel: 1, bootKernel: 1 });
    // the dashboard's workflow links go to the configured Web UI
    const [rev] = await sql`select id from revisions where tree = 'svc' and sha = ${sha}`;
    const page = await httpGet(`${dashboardUrl}/revisions/${rev.id}`);
    expect(page.body).toContain(`${UI_URL}/namespaces/default/workflows/`);

    services.builder = startBuilder();
    services.lab = startLab();
    await Promise.all([
      services.builder.waitFor(/polling build/, 60_000),
      services.lab.waitFor(/polling lab-/, 60_000),
    ]);
  }, 400_000);

  it('PostgreSQL stopped for a while: the orchestrator and the dashboard say so once, the dashboard answers 503, and both carry on when it is back', async () => {
    const watchers = [services.orchestrator, services.dashboard] as ServiceProcess[];
    await pg.stop();
    for (const p of watchers)
      await p.waitFor(/PostgreSQL at postgres:\/\/bootfarm:\*\*\*@\S+ unreachable: connect ECONNREFUSED /, 30_000);
    const during = await httpGet(`${dashboardUrl}/api/trees`);
    expect({ status: during.status, retryAfter: during.headers['retry-after'] }).toEqual({
      status: 503,
      retryAfter: '5',
    });
    expect(JSON.parse(during.body).error).toMatch(/^PostgreSQL at .* unreachable: try again shortly$/);
    await new Promise((r) => setTimeout(r, 8000)); // several probes fail meanwhile
    pg = await startPostgres({ dataDir: join(dir, 'pg'), port: pgPort, logFile: join(dir, 'postgres.log') });
    for (const p of watchers) await p.waitFor(/PostgreSQL at \S+ reachable again after \d+s/, 30_000);
    for (const p of watchers) {
      expect(p.lines(/PostgreSQL at .* unreachable/)).toHaveLength(1);
      expect(p.lines(/PostgreSQL at .* reachable again/)).toHaveLength(1);
    }
    expect((await httpGet(`${dashboardUrl}/api/trees`)).status).toBe(200);
    // the same processes run a whole revision again
    const { handle } = await revision(forcedRunName());
    expect((await handle.result()).result).toBe('pass');
    expect(watchers.every((p) => p.child.exitCode === null)).toBe(true);
  }, 300_000);

  it('Temporal stopped for a while: every service says so once, none exits, and work resumes when it is back', async () => {
    const all = Object.values(services) as ServiceProcess[];
    await temporal.stop();
    for (const p of all)
      await p.waitFor(/Temporal at \S+ unreachable: tcp connect error: Connection refused; waiting for it/, 30_000);
    await new Promise((r) => setTimeout(r, 8000));
    temporal = await startTemporal({
      port: temporalPort,
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
      headless: true,
    });
    for (const p of all) await p.waitFor(/Temporal at \S+ reachable again after \d+s/, 60_000);
    for (const p of all) {
      expect({ kind: p.kind, down: p.lines(/Temporal at .* unreachable/).length }).toEqual({ kind: p.kind, down: 1 });
      expect({ kind: p.kind, up: p.lines(/Temporal at .* reachable again/).length }).toEqual({ kind: p.kind, up: 1 });
      // the SDK's own retries are not logged one by one
      expect(p.lines(/retried \d+ times/)).toEqual([]);
      expect(p.child.exitCode).toBeNull();
    }
    const { handle } = await revision(forcedRunName());
    expect((await handle.result()).result).toBe('pass');
  }, 300_000);

  it('the dashboard stopped during a download finishes the download, then exits 0', async () => {
    const blob = randomBytes(16 * 1024 * 1024);
    const admin = new S3Store({
      endpoint: s3.endpoint,
      bucket: BUCKET,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    await admin.put('downloads/blob.bin', blob);
    admin.close();
    const dashboard = services.dashboard as ServiceProcess;
    const received = await new Promise<Buffer>((resolve, reject) => {
      get(`${dashboardUrl}/artifacts/downloads/blob.bin`, (res) => {
        const chunks: Buffer[] = [];
        res.once('data', (first: Buffer) => {
          chunks.push(first);
          res.pause(); // a slow reader: the answer is still being sent when SIGTERM comes
          dashboard.signal('SIGTERM');
          void dashboard.waitFor(/draining \(SIGTERM\): answering 1 request\(s\) in flight/, 10_000).then(() => {
            res.on('data', (d: Buffer) => chunks.push(d));
            res.resume();
          }, reject);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(createHash('sha256').update(received).digest('hex')).toBe(createHash('sha256').update(blob).digest('hex'));
    expect(await dashboard.exited).toBe(0);
    expect(dashboard.stdout()).toMatch(/stopped\n$/);
  }, 120_000);
});
