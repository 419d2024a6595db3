import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { freshDatabase, temporalAddress, type TestDatabase } from './harness/services';
import { expectOneLineError } from './harness/oneLineError';
import { occupiedPort } from './harness/occupiedPort';

const BIN = join(__dirname, '..', 'bin', 'bootfarm.js');

function bootfarm(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BOOTFARM_CONFIG: '', DATABASE_URL: '', TEMPORAL_ADDRESS: '', ...env },
    cwd: join(__dirname, '..'),
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bootfarm command line', () => {
  it.each([
    [[]],
    [['up']],
    [['worker']],
    [['dashboard']],
    [['config', 'check']],
    [['db', 'migrate']],
    [['run']],
    [['bisect']],
    [['lab', 'token']],
    [['lab', 'stop']],
  ])('has --help on %j', (args) => {
    const r = bootfarm([...args, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: bootfarm/);
  });

  it('checks the committed config and summarises it', () => {
    const r = bootfarm(['config', 'check', 'bootfarm.yaml']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^bootfarm\.yaml: ok: 1 trees, 1 branches, 4 build configs, 3 platforms, 2 labs$/m);
    expect(r.code).toBe(0);
  });

  it('reports every problem of a malformed config with file, line and path, and exits non-zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bf-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'labs:\n  - name: lab1\n    adapter: teleport\n    platforms: [p]\nplatforms:\n  - {name: p, arch: sparc}\n',
    );
    const r = bootfarm(['config', 'check', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3: labs[0].adapter`);
    expect(r.stderr).toContain(`${file}:6: platforms[0].arch`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a platform without boards at `config check`, in one line that says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bf-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'platforms:\n  - {name: p, arch: x86_64}\nlabs:\n  - {name: l, adapter: qemu, platforms: [{name: p, capacity: 0}]}\n',
    );
    const r = bootfarm(['config', 'check', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `bootfarm: ${file}:4: labs[0].platforms[0].capacity: at least 1 board: a platform with no boards takes no boot (leave it out of the lab instead)\n`,
    );
  });

  it('names an unreachable PostgreSQL in one line', () => {
    expectOneLineError(
      bootfarm(['db', 'migrate'], { DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/none' }),
      /^bootfarm: cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none/,
    );
  });

  it('names an unreachable Temporal in one line', () => {
    // not the demo's bootfarm.yaml: it holds the admin token, which a builder refuses to hold
    const empty = join(mkdtempSync(join(tmpdir(), 'bf-cli-')), 'builder.yaml');
    writeFileSync(empty, '{}\n');
    expectOneLineError(
      bootfarm(['worker', 'builder', '--config', empty], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      /^bootfarm: cannot reach Temporal at 127\.0\.0\.1:1: tcp connect error: Connection refused$/,
    );
  });

  it('says which dashboard it could not reach when `lab stop` finds no running stack', () => {
    expectOneLineError(
      bootfarm(['lab', 'stop', 'farm2'], { DASHBOARD_URL: 'http://127.0.0.1:1' }),
      /^bootfarm: cannot reach the dashboard at http:\/\/127\.0\.0\.1:1 \(is `bootfarm up` running\?\)/,
    );
  });

  it('refuses an unknown worker kind and a lab worker without --lab', () => {
    expectOneLineError(bootfarm(['worker', 'janitor']), /unknown worker kind "janitor"/);
    expectOneLineError(bootfarm(['worker', 'lab']), /a lab worker needs --lab NAME/);
  });

  describe('with a real database', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await freshDatabase();
      await db.sql`drop table if exists schema_migrations, lab_jobs, reports, bisections, regressions, boots, labs, platforms, builds, revisions, trees cascade`;
    });
    afterAll(() => db.drop());

    it('migrates once, then finds nothing to do', async () => {
      const first = bootfarm(['db', 'migrate'], { DATABASE_URL: db.url });
      expect(first.stdout).toMatch(/^applied: 001_init/);
      expect(first.code).toBe(0);
      const second = bootfarm(['db', 'migrate'], { DATABASE_URL: db.url });
      expect(second.stdout).toBe('database is up to date\n');
      const [{ n }] = await db.sql`select count(*)::int as n from schema_migrations`;
      expect(n).toBeGreaterThanOrEqual(1);
    });

    it('adds a lab, prints its token once, keeps only the hash, revokes it, and lists labs', async () => {
      const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress() };
      expect(bootfarm(['db', 'migrate'], env).code).toBe(0);
      expect(bootfarm(['lab', 'add', 'remote-lab', '--platform', 'qemu-x86_64:2'], env).stdout).toBe(
        'added lab remote-lab\n',
      );
      const issued = bootfarm(['lab', 'token', 'remote-lab'], env);
      const token = issued.stdout.trim();
      expect(token).toMatch(/^bfl_[A-Za-z0-9_-]{40,}$/);
      const [row] = await db.sql`select token_hash from labs where name = 'remote-lab'`;
      expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
      expect(JSON.stringify(await db.sql`select * from labs`)).not.toContain(token);
      const listed = bootfarm(['lab', 'list'], env);
      expect(listed.stdout).toMatch(/^remote-lab\s+api\s+offline\s+qemu-x86_64×2\s+token:yes/m);
      // then one line per platform: its health, boards and queue
      expect(listed.stdout).toMatch(/^ {2}qemu-x86_64\s+offline\s+2 board\(s\)\s+queue lab-remote-lab-qemu-x86_64$/m);
      expect(bootfarm(['lab', 'revoke', 'remote-lab'], env).code).toBe(0);
      const [revoked] = await db.sql`select token_hash from labs where name = 'remote-lab'`;
      expect(revoked.token_hash).toBeNull();
      expectOneLineError(bootfarm(['lab', 'token', 'nowhere'], env), /no lab "nowhere"/);
      expectOneLineError(
        bootfarm(['lab', 'add', 'x', '--platform', 'a b'], env),
        /--platform "a b": expected NAME or NAME:CAPACITY/,
      );
    });
  });

  describe('bootfarm up with a port already taken', () => {
    let held: Awaited<ReturnType<typeof occupiedPort>>;
    let port: number;
    beforeAll(async () => {
      held = await occupiedPort();
      port = held.port;
    });
    afterAll(() => held.release());

    it('names the port and what wanted it, and creates nothing', () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'bf-up-')), 'state');
      const r = bootfarm(['up', '--data-dir', dataDir, '--pg-port', String(port)]);
      expectOneLineError(r, new RegExp(`^bootfarm: port ${port} \\(PostgreSQL, --pg-port\\) is already in use`));
      expect(existsSync(dataDir)).toBe(false);
    });
  });
});
