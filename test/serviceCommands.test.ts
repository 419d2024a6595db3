/**
 * The deployment's service commands with bad input or a missing part, as real
 * processes: each says what is wrong in one line and exits non-zero before it
 * serves anything; none starts with a secret its kind must not hold, and none
 * prints a secret's value.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, temporalAddress, type TestDatabase } from './harness/services';
import { expectOneLineError } from './harness/oneLineError';
import { occupiedPort } from './harness/occupiedPort';
import { runService, type ServiceRun } from './harness/serviceRun';

const dir = mkdtempSync(join(tmpdir(), 'bf-services-'));

/** `bootfarm ARGS` in an empty directory (no ./bootfarm.yaml), with exactly `env` on top of a cleared environment. */
function bootfarm(args: string[], env: Record<string, string> = {}): Promise<ServiceRun> {
  return runService(args, { cwd: dir, env });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const LABS = `
buildConfigs: [{ name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }]
platforms: [{ name: pc, arch: x86_64 }, { name: board, arch: x86_64 }]
labs:
  - { name: qemu, adapter: qemu, platforms: [pc] }
  - { name: remote, adapter: api, platforms: [board] }
`;

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db?.drop());

describe('a service holding a secret its kind must not hold refuses to start', () => {
  // long enough to pass as an admin token (24+ characters): what is refused here is who holds it
  const PASSWORD = 'pw-never-printed-0123456789abcdef';
  it.each([
    [
      'builder',
      { DATABASE_URL: `postgres://u:${PASSWORD}@db:5432/bootfarm` },
      /^bootfarm: a builder must not hold the results database \(DATABASE_URL\): builders run code from the monitored trees/,
    ],
    [
      'builder',
      { BOOTFARM_ADMIN_TOKEN: PASSWORD },
      /^bootfarm: a builder must not hold the admin token \(BOOTFARM_ADMIN_TOKEN\)/,
    ],
    [
      'builder',
      { SMTP_URL: `smtp://u:${PASSWORD}@mail` },
      /^bootfarm: a builder must not hold the mail server .*\(SMTP_URL\)/,
    ],
    [
      'lab',
      { BOOTFARM_ADMIN_TOKEN: PASSWORD },
      /^bootfarm: a lab worker must not hold the admin token \(BOOTFARM_ADMIN_TOKEN\): lab workers run on hosts of their own labs/,
    ],
    [
      'lab',
      { DATABASE_URL: `postgres://u:${PASSWORD}@db/bootfarm` },
      /^bootfarm: a lab worker must not hold the results database \(DATABASE_URL\)/,
    ],
    [
      'orchestrator',
      { DATABASE_URL: `postgres://u:${PASSWORD}@db/x`, BOOTFARM_ADMIN_TOKEN: PASSWORD },
      /^bootfarm: an orchestrator must not hold the admin token \(BOOTFARM_ADMIN_TOKEN\): only the dashboard may hold it/,
    ],
    [
      'dashboard',
      { DATABASE_URL: `postgres://u:${PASSWORD}@db/x`, SMTP_URL: `smtp://u:${PASSWORD}@mail` },
      /^bootfarm: the dashboard must not hold the mail server .*\(SMTP_URL\): only orchestrators may hold it/,
    ],
  ])('%s with %j', async (kind, env, pattern) => {
    const config = file(`${kind}-empty.yaml`, LABS);
    const args = kind === 'dashboard' ? ['dashboard'] : ['worker', kind, ...(kind === 'lab' ? ['--lab', 'qemu'] : [])];
    const r = await bootfarm([...args, '--config', config], env as Record<string, string>);
    expectOneLineError(r, pattern);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('also when the secret is in its config file, naming the key and the file, not the value', async () => {
    const config = file(
      'shared.yaml',
      `database: { url: "postgres://u:${PASSWORD}@db/x" }\ndashboard: { adminToken: ${PASSWORD} }\n${LABS}`,
    );
    const r = await bootfarm(['worker', 'builder', '--config', config]);
    expectOneLineError(
      r,
      new RegExp(
        `^bootfarm: a builder must not hold the results database \\(database\\.url in ${config}\\); the admin token \\(dashboard\\.adminToken in ${config}\\)`,
      ),
    );
    expect(r.stderr).not.toContain(PASSWORD);
  });
});

describe('a service started without what it needs', () => {
  it.each([
    [
      ['worker', 'orchestrator'],
      /^bootfarm: the orchestrator needs the results database: set DATABASE_URL \(or database\.url in its config file\)$/,
    ],
    [['dashboard'], /^bootfarm: the dashboard needs the results database: set DATABASE_URL/],
    [['db', 'migrate'], /^bootfarm: bootfarm db migrate needs the results database: set DATABASE_URL/],
  ])('%j says it needs the database', async (args, pattern) => {
    expectOneLineError(await bootfarm(args), pattern);
  });

  it('a lab worker for a lab not in the config names the labs that are; an api lab runs no worker', async () => {
    const config = file('labs.yaml', LABS);
    expectOneLineError(
      await bootfarm(['worker', 'lab', '--lab', 'farm9', '--config', config]),
      /^bootfarm: no lab "farm9" in the config \(labs: qemu, remote\)$/,
    );
    expectOneLineError(
      await bootfarm(['worker', 'lab', '--lab', 'remote', '--config', config]),
      /^bootfarm: lab remote is an api lab: it runs no worker/,
    );
  });
});

describe('a dependency unreachable at start: one line naming it, exit non-zero, nothing served', () => {
  const deadTemporal = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
  it.each(['orchestrator', 'builder', 'lab', 'dashboard'])('Temporal, for the %s', async (kind) => {
    const config = file(`labs-${kind}.yaml`, LABS);
    const args = kind === 'dashboard' ? ['dashboard'] : ['worker', kind, ...(kind === 'lab' ? ['--lab', 'qemu'] : [])];
    const env = ['orchestrator', 'dashboard'].includes(kind) ? { ...deadTemporal, DATABASE_URL: db.url } : deadTemporal;
    const r = await bootfarm([...args, '--config', config], env);
    expectOneLineError(r, /^bootfarm: cannot reach Temporal at 127\.0\.0\.1:1: tcp connect error: Connection refused$/);
    expect(r.stdout).toBe('');
  });

  it.each(['orchestrator', 'dashboard'])('PostgreSQL, for the %s (password masked)', async (kind) => {
    const r = await bootfarm(kind === 'dashboard' ? ['dashboard'] : ['worker', kind], {
      DATABASE_URL: 'postgres://bootfarm:hunter2@127.0.0.1:1/bootfarm',
      TEMPORAL_ADDRESS: temporalAddress(),
    });
    expectOneLineError(
      r,
      /^bootfarm: cannot reach PostgreSQL at postgres:\/\/bootfarm:\*\*\*@127\.0\.0\.1:1\/bootfarm: connect ECONNREFUSED/,
    );
    expect(r.stderr).not.toContain('hunter2');
  });

  it('the S3 server, for a builder (bucket and endpoint named, keys not)', async () => {
    const r = await bootfarm(['worker', 'builder', '--config', file('s3.yaml', '{}\n')], {
      TEMPORAL_ADDRESS: temporalAddress(),
      S3_BUCKET: 'artifacts',
      S3_ENDPOINT: 'http://127.0.0.1:1',
      S3_ACCESS_KEY_ID: 'builder',
      S3_SECRET_ACCESS_KEY: 'sekrit-key',
    });
    expectOneLineError(
      r,
      /^bootfarm: cannot reach the artifact store \(S3 bucket artifacts at http:\/\/127\.0\.0\.1:1\): .*ECONNREFUSED/,
    );
    expect(r.stderr).not.toContain('sekrit-key');
    expect(r.stdout).toBe('');
  });

  it('the dashboard with a listen address it cannot have: a port in use, an address not of this machine, a port out of range', async () => {
    const held = await occupiedPort();
    const { port } = held;
    try {
      const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress() };
      const config = file('dash.yaml', '{}\n');
      const [inUse, notHere, outOfRange] = await Promise.all([
        bootfarm(['dashboard', '--config', config, '--port', String(port)], env),
        // 203.0.113.0/24 is reserved for documentation: never an address of this machine (nothing is sent)
        bootfarm(['dashboard', '--config', config, '--host', '203.0.113.7', '--port', '0'], env),
        bootfarm(['dashboard', '--config', config, '--port', '70000'], env),
      ]);
      expectOneLineError(
        inUse,
        new RegExp(`^bootfarm: port ${port} on 127\\.0\\.0\\.1 is already in use \\(--port\\)$`),
      );
      expectOneLineError(
        notHere,
        /^bootfarm: cannot listen on 203\.0\.113\.7:0: 203\.0\.113\.7 is not an address of this machine \(--host\)$/,
      );
      expectOneLineError(
        outOfRange,
        /^bootfarm: --port: expected a port number 0-65535 \(0: any free port\), got "70000"$/,
      );
    } finally {
      await held.release();
    }
  });
});

describe('Temporal TLS settings that cannot work are one line at start', () => {
  const tls = mkdtempSync(join(tmpdir(), 'bf-tls-'));
  const pem = (name: string) => join(tls, name);
  beforeAll(() => {
    // two unrelated self-signed certificates and their keys
    for (const n of ['a', 'b'])
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          `/CN=${n}`,
          '-keyout',
          pem(`${n}.key`),
          '-out',
          pem(`${n}.crt`),
        ],
        { stdio: 'ignore' },
      );
    writeFileSync(pem('garbage.crt'), 'not a certificate\n');
  });

  it.each([
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: 'a.key' },
      /^bootfarm: Temporal TLS client certificate \/nonexistent\/client\.crt \(TEMPORAL_TLS_CLIENT_CERT_PATH or temporal\.tls\.clientCertPath\): cannot read: ENOENT$/,
    ],
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'garbage.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: 'a.key' },
      /^bootfarm: Temporal TLS client certificate garbage\.crt \(TEMPORAL_TLS_CLIENT_CERT_PATH or temporal\.tls\.clientCertPath\): not a PEM certificate/,
    ],
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'a.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: 'a.crt' },
      /^bootfarm: Temporal TLS client key a\.crt \(TEMPORAL_TLS_CLIENT_KEY_PATH or temporal\.tls\.clientKeyPath\): not a PEM private key/,
    ],
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'a.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: 'b.key' },
      /^bootfarm: Temporal TLS client key b\.key does not belong to the client certificate a\.crt$/,
    ],
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: 'a.crt' },
      /^bootfarm: Temporal mTLS needs a client certificate and its key: TEMPORAL_TLS_CLIENT_KEY_PATH or temporal\.tls\.clientKeyPath is not set$/,
    ],
    [
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'garbage.crt' },
      /^bootfarm: Temporal TLS server CA certificate garbage\.crt .*: not a PEM certificate/,
    ],
    [
      { TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'temporal.example' },
      /^bootfarm: Temporal TLS is turned off .* but TLS files or a server name are set/,
    ],
    [{ TEMPORAL_TLS: 'perhaps' }, /^bootfarm: TEMPORAL_TLS="perhaps": expected true or false$/],
  ])('%j', async (env, pattern) => {
    // paths in the environment are taken from the working directory
    const relative = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, k.endsWith('_PATH') && !v.startsWith('/') ? join(tls, v) : v]),
    );
    const r = await bootfarm(['worker', 'builder', '--config', file('tls.yaml', '{}\n')], {
      ...relative,
      TEMPORAL_ADDRESS: temporalAddress(),
    });
    const shown = new RegExp(
      pattern.source.replaceAll(/(garbage|[ab])\\\.(crt|key)/g, `${tls.replaceAll('/', '\\/')}\\/$1\\.$2`),
    );
    expectOneLineError(r, shown);
    expect(r.stdout).toBe('');
  });
});
