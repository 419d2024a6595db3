/**
 * What builders and lab workers remove on their own host, for real: a
 * mirror clone killed mid-way (SIGKILL to the process running it) leaves a
 * temporary directory that the next fetch removes, while a live clone's is
 * never touched; unused build directories go, one in use (its lock held by
 * another process) stays; ccache is capped with `ccache -M` and cleaned
 * down to it; a killed lab worker's old boot scratch goes, a running boot's
 * stays; and builder and lab workers run that sweep themselves at start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { sweepBuilder, sweepLabScratch } from '../../activities/retention/local';
import { buildDirs } from '../../activities/build/index';
import { boxUserOf } from '../../activities/build/box';
import { ensureMirror, git, mirrorPath, sweepDeadClones } from '../../plumbing/git/mirror';
import { run } from '../../plumbing/git/command';
import { loadConfig } from '../../plumbing/loadConfig';
import { DirStore } from '../../plumbing/store/dirStore';
import { createBuilderWorkers } from '../../workers/builder';
import { createLabWorkers } from '../../workers/lab';
import { prng } from '../bisect/support/syntheticHistory';
import { servicesYaml, temporalAddress, testDir, uniqueId } from '../harness/services';

const DAY = 86_400_000;
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(testDir(), 'retention-local-'));
});

function age(path: string, days: number) {
  const t = new Date(Date.now() - days * DAY);
  utimesSync(path, t, t);
}

/** A repository whose clone over file:// takes seconds: 48 MiB of incompressible blobs. */
async function bigRepo(): Promise<string> {
  const dir = join(scratch, uniqueId('big-'));
  mkdirSync(dir);
  for (let i = 0; i < 24; i++) writeFileSync(join(dir, `blob${i}`), randomBytes(2 * 1024 * 1024));
  const env = {
    GIT_AUTHOR_NAME: 'a',
    GIT_AUTHOR_EMAIL: 'a@b.c',
    GIT_COMMITTER_NAME: 'a',
    GIT_COMMITTER_EMAIL: 'a@b.c',
  };
  for (const args of [
    ['init', '-q', '-b', 'master'],
    ['add', '-A'],
    ['commit', '-qm', 'big'],
  ])
    await run('git', ['-C', dir, ...args], { env: { ...process.env, ...env } });
  return `file://${dir}`;
}

function startClone(mirrorDir: string, tree: string, url: string): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'support', 'cloneMirror.ts'), mirrorDir, tree, url],
    {
      stdio: 'ignore',
    },
  );
}

const tempDirsOf = (mirrorDir: string, tree: string) =>
  readdirSync(mirrorDir).filter((n) => n.startsWith(`${tree}.git.tmp-`));

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
  );

describe('a mirror clone killed mid-way', () => {
  let url: string;
  beforeAll(async () => {
    url = await bigRepo();
  }, 120_000);

  it('leaves a temporary directory that the next fetch of the tree removes', async () => {
    const mirrorDir = join(scratch, uniqueId('mirrors-'));
    mkdirSync(mirrorDir);
    const clone = startClone(mirrorDir, 'big', url);
    await waitFor('the clone to start writing', () => existsSync(mirrorDir) && tempDirsOf(mirrorDir, 'big').length > 0);
    clone.kill('SIGKILL');
    await exited(clone);
    const [left] = tempDirsOf(mirrorDir, 'big');
    expect(left).toBe(`big.git.tmp-${clone.pid}`);
    expect(existsSync(join(mirrorPath(mirrorDir, 'big'), 'HEAD'))).toBe(false);

    // The next fetch (waiting for the killed process's git, which still holds the lock, if it runs on)
    await ensureMirror(mirrorDir, 'big', url);
    expect(tempDirsOf(mirrorDir, 'big')).toEqual([]);
    expect((await git(['-C', mirrorPath(mirrorDir, 'big'), 'rev-parse', 'master'])).trim()).toMatch(/^[0-9a-f]{40}$/);
  });

  it("is told apart from a live clone: a sweep never removes the live one's directory", async () => {
    const mirrorDir = join(scratch, uniqueId('mirrors-'));
    mkdirSync(mirrorDir);
    // a dead clone of another tree, and a live clone of this one
    mkdirSync(join(mirrorDir, 'other.git.tmp-999999', 'objects'), { recursive: true });
    const clone = startClone(mirrorDir, 'big', url);
    await waitFor('the live clone to start writing', () => tempDirsOf(mirrorDir, 'big').length > 0);
    const removed = await sweepDeadClones(mirrorDir);
    expect(removed).toEqual([join(mirrorDir, 'other.git.tmp-999999')]);
    // the live clone's directory was there during the sweep and the clone ends well
    expect(await exited(clone)).toBe(0);
    expect(existsSync(join(mirrorPath(mirrorDir, 'big'), 'HEAD'))).toBe(true);
    expect(tempDirsOf(mirrorDir, 'big')).toEqual([]);
  });
});

describe("a builder's sweep", () => {
  it('removes unused build directories, keeps used and locked ones, and caps ccache with ccache -M as the build user', async () => {
    const workDir = join(scratch, uniqueId('builder-'));
    const make = (config: string, days: number) => {
      const d = buildDirs(workDir, 't', config);
      mkdirSync(join(d.src, 'kernel'), { recursive: true });
      mkdirSync(d.obj, { recursive: true });
      writeFileSync(join(d.obj, 'vmlinux.o'), randomBytes(4096));
      writeFileSync(d.log, 'make\n');
      age(d.log, days);
      age(d.base, days);
      return d;
    };
    const unused = make('unused', 30);
    const recent = make('recent', 2);
    const locked = make('locked', 30);
    // another builder's make holds the lock of `locked` (a flock held by a process of its own)
    const holder = spawn('flock', [locked.lock, 'sleep', '60'], { stdio: 'ignore' });
    await waitFor('the other builder to hold the lock', () => existsSync(locked.lock));
    await new Promise((r) => setTimeout(r, 200));

    // A cache well over 1 MiB: objects holding tables of seeded noise (ccache compresses what it stores).
    const ccacheDir = join(workDir, 'ccache');
    // as root (this suite's usual case) builds run as the box user, who must own the cache after a sweep too
    const boxUser = boxUserOf(undefined);
    const src = join(scratch, uniqueId('cc-'));
    mkdirSync(src);
    const env = { ...process.env, CCACHE_DIR: ccacheDir };
    const noise = prng(15);
    for (let i = 0; i < 8; i++) {
      const table = Array.from({ length: 256 * 1024 }, () => Math.floor(noise() * 256)).join(',');
      writeFileSync(
        join(src, `f${i}.c`),
        `const unsigned char t${i}[] = {${table}}; int f${i}(void){return t${i}[${i}];}\n`,
      );
      await run('ccache', ['gcc', '-c', join(src, `f${i}.c`), '-o', join(src, `f${i}.o`)], { env });
    }
    const sizeKiB = async () =>
      Number(/^cache_size_kibibyte\t(\d+)$/m.exec((await run('ccache', ['--print-stats'], { env })).stdout)?.[1]);
    expect(await sizeKiB()).toBeGreaterThan(1024);

    try {
      const report = await sweepBuilder({
        workDir,
        mirrorDir: join(workDir, 'mirrors'),
        worktreesMs: 14 * DAY,
        ccacheDir,
        ccacheBytes: 1024 * 1024,
        boxUser,
      });
      expect(report.removed).toEqual([unused.base]);
      expect(report.busy).toEqual([locked.base]);
      expect([existsSync(unused.base), existsSync(recent.src), existsSync(locked.obj)]).toEqual([false, true, true]);
      // the lock file stays: a builder waiting on it must not end up with a lock of its own on a new file
      expect(existsSync(unused.lock)).toBe(true);
      expect(report.notes).toEqual([expect.stringMatching(/: max 1024Ki, cleaned up, \d+ KiB in use$/)]);
      expect(readFileSync(join(ccacheDir, 'ccache.conf'), 'utf8')).toMatch(/^max_size = 1024Ki$/m);
      expect(await sizeKiB()).toBeLessThanOrEqual(1024);
      // what ccache wrote during the sweep stays writable to the builds (they run as the box user)
      if (boxUser) {
        const notTheirs = readdirSync(ccacheDir, { recursive: true, encoding: 'utf8' })
          .map((f) => join(ccacheDir, f))
          .filter((f) => statSync(f).uid !== boxUser.uid);
        expect(notTheirs).toEqual([]);
      }
    } finally {
      holder.kill();
    }
  });
});

describe("a lab worker's sweep", () => {
  it("removes a killed worker's old boot scratch directories and keeps a running boot's", async () => {
    const workDir = join(scratch, uniqueId('lab-'));
    const dead = join(workDir, 'qemu-dead01');
    const running = join(workDir, 'qemu-live02');
    mkdirSync(dead, { recursive: true });
    mkdirSync(running);
    writeFileSync(join(dead, 'bzImage'), 'k');
    age(dead, 2);
    const report = await sweepLabScratch(workDir, DAY);
    expect(report.removed).toEqual([dead]);
    expect([existsSync(dead), existsSync(running)]).toEqual([false, true]);
  });
});

describe('builder and lab workers sweep their own directories at start', () => {
  it('a builder worker removes an unused build directory and a dead clone; a lab worker its old scratch', async () => {
    const dir = join(scratch, uniqueId('workers-'));
    const file = join(dir, 'bootfarm.yaml');
    mkdirSync(dir);
    writeFileSync(
      file,
      `${servicesYaml(dir, 'default', 'postgres://unused')}
platforms: [{ name: p, arch: x86_64 }]
labs: [{ name: lab1, adapter: qemu, platforms: [p] }]
retention: { worktrees: 7d }
`,
    );
    const config = loadConfig(file);
    const old = buildDirs(config.builder.workDir, 't', 'c');
    mkdirSync(old.obj, { recursive: true });
    age(old.base, 10);
    const deadClone = join(config.dataDir, 'mirrors', 't.git.tmp-999999');
    mkdirSync(deadClone, { recursive: true });
    const scratchDir = join(config.dataDir, 'labs', 'lab1', 'qemu-dead');
    mkdirSync(scratchDir, { recursive: true });
    age(scratchDir, 3);

    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const deps = { config, connection, namespace: 'default', store: new DirStore(join(dir, 'artifacts')) };
    const workers = [...(await createBuilderWorkers(deps)), ...(await createLabWorkers(deps, 'lab1'))];
    // run, so that they can be shut down and let go of the connection
    const running = workers.map((w) => w.run());
    try {
      await waitFor(
        'the workers to sweep',
        () => !existsSync(old.base) && !existsSync(deadClone) && !existsSync(scratchDir),
        20_000,
      );
    } finally {
      await waitFor('the workers to run', () => workers.every((w) => w.getState() === 'RUNNING'));
      for (const w of workers) w.shutdown();
      await Promise.allSettled(running);
      await connection.close();
    }
  });
});
