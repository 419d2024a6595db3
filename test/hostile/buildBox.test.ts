/**
 * A kernel tree is code Bootfarm did not write. Its Makefile runs in a box
 * (activities/build/box.ts); these trees try what a malicious or broken one
 * would, through the real build activity with real git, make and gcc.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { buildDirs, createBuildActivities, type BuildDeps } from '../../activities/build';
import { boxedArgv } from '../../activities/build/box';
import { DirStore } from '../../plumbing/store/dirStore';
import { run } from '../../plumbing/git/command';
import type { BuildConfig } from '../../domain/config';
import type { BuildRequest } from '../../domain/types';
import { commitChange, createBranch, linearHistory, type FixtureRepo } from '../../fixtures/generator';
import { testDir } from '../harness/services';
import { processes } from '../slow/support/processTree';

const ROOT = resolve(__dirname, '../..');
const config: BuildConfig = {
  name: 'x86_64-defconfig',
  arch: 'x86_64',
  defconfig: 'defconfig',
  fragments: [],
  toolchain: 'gcc',
};

/** What a builder process holds: connection strings, keys and tokens that no Makefile may see. */
const SECRETS = {
  DATABASE_URL: 'postgres://bootfarm:db-secret-5f1e@127.0.0.1:5433/bootfarm',
  S3_SECRET_ACCESS_KEY: 's3-secret-9a7c',
  S3_ACCESS_KEY_ID: 'AKIA-s3-id-77b2',
  BOOTFARM_ADMIN_TOKEN: 'admin-token-c0ffee',
  SMTP_URL: 'smtps://bot:smtp-secret-4d2a@mail.example.org',
};

describe('a hostile tree builds in its box', () => {
  let dir: string;
  let repo: FixtureRepo;
  let base: string;
  let store: DirStore;
  let deps: BuildDeps;
  const saved: Record<string, string | undefined> = {};
  const request = (sha: string): BuildRequest => ({
    tree: 'hostile',
    url: repo.url,
    sha,
    describe: sha.slice(0, 7),
    config,
  });
  const branchWith = async (name: string, effect: 'hostile-build' | 'flood-log' | 'fake-disk-full') => {
    await createBranch(repo, name, base);
    return commitChange(repo, { subject: `fixture: ${effect}`, effect }, { branch: name });
  };

  beforeAll(async () => {
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    dir = mkdtempSync(join(testDir(), 'build-box-'));
    let shas: string[];
    ({ repo, shas } = await linearHistory(join(dir, 'upstream'), 1));
    base = shas[shas.length - 1];
    store = new DirStore(join(dir, 'artifacts'));
    deps = {
      store,
      workDir: join(dir, 'builder'),
      jobs: 2,
      builderName: 'box-builder',
      git: { mirrorDir: join(dir, 'builder', 'mirrors') },
      // the builder config's own env: only PATH and CCACHE_* pass
      env: { CCACHE_DIR: join(dir, 'ccache'), GITHUB_TOKEN: 'ghp_builder-env-secret-1234' },
      maxLogBytes: 1024 * 1024,
    };
  });

  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('a Makefile that dumps its environment finds no secret, sees no host, writes nothing outside its build directory', async () => {
    const sha = await branchWith('hostile', 'hostile-build');
    const r = await createBuildActivities(deps).buildKernel(request(sha));
    expect(r.status).toBe('pass');
    const log = (await store.get(r.artifacts.log.key)).toString();
    // it ran: its environment is in the log
    expect(log).toContain('--- hostile: environment ---');
    expect(log).toMatch(/^KBUILD_BUILD_USER=bootfarm$/m);
    for (const secret of [...Object.values(SECRETS), 'ghp_builder-env-secret-1234', 'db-secret-5f1e'])
      expect({ secret, inLog: log.includes(secret) }).toEqual({ secret, inLog: false });
    // an unprivileged user, no network, none of the host's directories
    expect(log).toMatch(/^uid=64200 gid=64200 groups=64200$/m);
    // (make -j2: other recipes' lines may come in between)
    expect(log.slice(log.indexOf('--- hostile: network'), log.indexOf('--- hostile: environment ---'))).toMatch(
      /OSError: \[Errno 101\] Network is unreachable/,
    );
    const root = log.slice(log.indexOf('--- hostile: / ---\n') + 19, log.indexOf('--- hostile: network'));
    for (const hostDir of ['root', 'home', 'work', 'var', 'srv']) expect(root.split('\n')).not.toContain(hostDir);

    const dirs = buildDirs(deps.workDir, 'hostile', config.name);
    const id = /^hostile: \w+ \S*\/escaped-(\w+)$/m.exec(log)![1];
    const attempts = [...log.matchAll(/^hostile: (wrote|refused) (\S+)$/gm)].map((m) => ({
      outcome: m[1],
      path: m[2],
    }));
    expect(attempts.map((a) => a.path)).toEqual([
      join(dirs.base, `escaped-${id}`),
      join(resolve(deps.workDir), `escaped-${id}`),
      join(dirs.src, `escaped-${id}`),
      join(resolve(deps.git.mirrorDir), 'hostile.git', `escaped-${id}`),
      `/tmp/escaped-${id}`,
      `/escaped-${id}`,
    ]);
    // /tmp is the box's own: the write lands there, not on the host
    expect(attempts.filter((a) => a.outcome === 'wrote').map((a) => a.path)).toEqual([`/tmp/escaped-${id}`]);
    for (const a of attempts)
      expect({ path: a.path, onHost: existsSync(a.path) }).toEqual({ path: a.path, onHost: false });
  });

  it('a Makefile that prints 2 GiB: the stored log keeps head and tail with a note of the cut, the builder is fine', async () => {
    const sha = await branchWith('flood', 'flood-log');
    const rssBefore = process.memoryUsage().rss;
    const r = await createBuildActivities(deps).buildKernel(request(sha));
    expect(r.status).toBe('pass');
    expect(r.artifacts.log.size).toBeLessThanOrEqual(1024 * 1024 + 512);
    const log = (await store.get(r.artifacts.log.key)).toString();
    expect(log).toMatch(/^bootfarm: bootfarm build of hostile /); // the head
    expect(log).toMatch(
      /\nbootfarm: \[\d+ bytes of output cut here: the log keeps the first 262144 and the last \d+ bytes\]\n/,
    );
    const cut = Number(/\[(\d+) bytes of output cut here/.exec(log)![1]);
    expect(cut).toBeGreaterThan(2 * 1024 ** 3 - 1024 ** 2);
    expect(log).toContain('flood: done'); // the tail
    expect(log).toMatch(/bootfarm: result: pass\n$/);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  }, 300_000);

  it('a failing build that prints "No space left on device" is the tree\'s failure, not the builder\'s', async () => {
    const sha = await branchWith('fake-disk-full', 'fake-disk-full');
    const r = await createBuildActivities(deps).buildKernel(request(sha));
    expect(r).toMatchObject({ status: 'fail' });
    const log = (await store.get(r.artifacts.log.key)).toString();
    expect(log).toContain('No space left on device');
    expect(log).toMatch(/bootfarm: the output says ".*No space left on device", but the builder has disk space/);
  });

  it("a box has no network: a listener on the builder's loopback is never reached", async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const { port } = server.address() as AddressInfo;
    try {
      const scratch = mkdtempSync(join(testDir(), 'box-net-'));
      const boxed = boxedArgv({ readOnly: [], writable: [scratch] }, { uid: 64200, gid: 64200 }, scratch, 'python3', [
        '-c',
        `import socket; socket.create_connection(("127.0.0.1", ${port}), 3); print("connected")`,
      ]);
      const r = await run(boxed.cmd, boxed.args, { env: { PATH: '/usr/bin:/bin' } });
      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toContain('connected');
      expect(r.stderr).toMatch(/Connection refused/);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('a builder killed mid-build leaves no make, no compiler, nothing of its box running', async () => {
    const sha = await branchWith('killed', 'flood-log');
    const script = `
      const { createBuildActivities } = require('./activities/build');
      const { DirStore } = require('./plumbing/store/dirStore');
      const deps = ${JSON.stringify({ ...deps, store: undefined, workDir: join(dir, 'killed-builder') })};
      createBuildActivities({ ...deps, store: new DirStore(${JSON.stringify(join(dir, 'killed-artifacts'))}) })
        .buildKernel(${JSON.stringify(request(sha))});`;
    const builder = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: ROOT, stdio: 'ignore' });
    const workDir = join(dir, 'killed-builder');
    const inBox = () =>
      processes().filter((p) => {
        if (p.pid === builder.pid) return false;
        try {
          return readlinkSync(`/proc/${p.pid}/cwd`).startsWith(workDir) || p.argv.some((a) => a.includes(workDir));
        } catch {
          return false;
        }
      });
    const log = join(buildDirs(workDir, 'hostile', config.name).base, 'build.log');
    // wait until the flood is under way: make and its recipe are running in the box
    const deadline = Date.now() + 60_000;
    while (!(existsSync(log) && statSync(log).size > 100_000 && inBox().some((p) => p.argv[0] === 'tr'))) {
      if (Date.now() > deadline) throw new Error(`the build never got going: ${readFileSync(log, 'utf8').slice(-500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(inBox().map((p) => p.argv[0])).toEqual(expect.arrayContaining(['make', 'tr']));
    builder.kill('SIGKILL');
    const gone = Date.now() + 10_000;
    while (inBox().length && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(inBox().map((p) => `${p.pid} ${p.argv.join(' ').slice(0, 120)}`)).toEqual([]);
  }, 120_000);
});
