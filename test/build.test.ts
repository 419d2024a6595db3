import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { buildDirs, createBuildActivities, kbuildTimestamp, type BuildDeps } from '../activities/build/index';
import { parseBuildLog } from '../activities/build/logParser';
import { mergeConfig } from '../activities/build/kconfig';
import { resolveToolchain } from '../activities/build/toolchain';
import { ErrorType, isNonRetryable, RetryableErrorType } from '../domain/errors';
import { DirStore } from '../plumbing/store';
import { createRevert } from '../activities/bisect/revert';
import { ensureMirror, mirrorLockPath } from '../plumbing/git/mirror';
import type { BuildConfig } from '../domain/config';
import type { BuildRequest, BuildResult } from '../domain/types';
import { linearHistory, type FixtureRepo } from '../fixtures/generator';
import { testDir } from './harness/services';

const defconfig: BuildConfig = {
  name: 'x86_64-defconfig',
  arch: 'x86_64',
  defconfig: 'defconfig',
  fragments: [],
  toolchain: 'gcc',
};

/** Run `fn` in a mock activity context (heartbeats and cancellation like a worker's). */
function asActivity<R>(env: MockActivityEnvironment, fn: () => Promise<R>): Promise<R> {
  return env.run(fn) as Promise<R>;
}

async function failureOf(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof Error)) throw new Error('expected a rejection');
  return e;
}

describe('the build activity with real git, make and gcc on the fixture tree', () => {
  let dir: string;
  let repo: FixtureRepo;
  let shas: string[];
  let store: DirStore;
  let deps: BuildDeps;
  let build: (req: BuildRequest) => Promise<BuildResult>;
  const request = (sha: string, config: BuildConfig = defconfig): BuildRequest => ({
    tree: 'demo',
    url: repo.url,
    sha,
    describe: `demo-${sha.slice(0, 7)}`,
    config,
  });
  const text = async (key: string) => (await store.get(key)).toString();

  beforeAll(async () => {
    dir = mkdtempSync(join(testDir(), 'build-'));
    ({ repo, shas } = await linearHistory(join(dir, 'upstream'), 5, {
      2: { subject: 'fixture: add a warning', effect: 'add-warning' },
      3: { subject: 'fixture: break the build', effect: 'break-build' },
      4: { subject: 'fixture: fix the build', effect: 'fix-build' },
    }));
    store = new DirStore(join(dir, 'artifacts'));
    deps = {
      store,
      workDir: join(dir, 'builder'),
      jobs: 2,
      ccache: true,
      builderName: 'test-builder',
      git: { mirrorDir: join(dir, 'builder', 'mirrors') },
      env: { CCACHE_DIR: join(dir, 'ccache') },
    };
    build = createBuildActivities(deps).buildKernel;
  });

  const obj = () => buildDirs(deps.workDir, 'demo', defconfig.name).obj;
  let printkMtime: number;
  let firstKernel: Buffer;

  it('builds a good commit: pass, with kernel, .config, System.map and log in the store, heartbeating its steps', async () => {
    const env = new MockActivityEnvironment();
    const beats: { step: string; logLines: number }[] = [];
    env.on('heartbeat', (d: { step: string; logLines: number }) => beats.push(d));
    const r = await asActivity(env, () => build(request(shas[1])));

    expect(r).toMatchObject({ status: 'pass', errors: 0, warnings: 0, errorLines: [], builder: 'test-builder' });
    const prefix = `builds/demo/${shas[1]}/x86_64-defconfig`;
    expect(Object.fromEntries(Object.entries(r.artifacts).map(([role, ref]) => [role, ref.key]))).toEqual({
      kernel: `${prefix}/bzImage`,
      config: `${prefix}/kernel.config`,
      systemMap: `${prefix}/System.map`,
      log: `${prefix}/build.log`,
    });
    expect((await store.get(r.artifacts.kernel.key)).equals(readFileSync(join(obj(), 'arch/x86/boot/bzImage')))).toBe(
      true,
    );
    expect(r.artifacts.kernel.size).toBeGreaterThan(1000);
    expect(await text(r.artifacts.config.key)).toMatch(/^CONFIG_X86=y$/m);
    expect(await text(r.artifacts.systemMap.key)).toMatch(/ T start_kernel$/m);
    const log = await text(r.artifacts.log.key);
    expect(log).toContain('$ make ARCH=x86_64 CROSS_COMPILE= O=');
    expect(log).toContain("'CC=ccache gcc'");
    expect(log).toContain('bzImage is ready');

    const steps = beats.map((b) => b.step);
    expect(steps).toEqual(expect.arrayContaining(['checkout', 'make defconfig', 'make bzImage', 'store artifacts']));
    expect(Math.max(...beats.map((b) => b.logLines))).toBeGreaterThan(5);
    printkMtime = statSync(join(obj(), 'kernel/printk.o')).mtimeMs;
    firstKernel = await store.get(r.artifacts.kernel.key);
  });

  it('builds the next commit in the same build directory, recompiling only what changed, and counts its warning', async () => {
    const r = await build(request(shas[2]));
    expect(r.status).toBe('pass');
    expect(r.warnings).toBeGreaterThanOrEqual(1);
    const log = await text(r.artifacts.log.key);
    expect(log).toMatch(/CC +drivers\/fixture\/warn_/);
    // kernel/printk.c did not change between the commits: kbuild kept its object
    expect(log).not.toMatch(/CC +kernel\/printk\.o/);
    expect(statSync(join(obj(), 'kernel/printk.o')).mtimeMs).toBe(printkMtime);
  });

  it('reports a commit that does not compile as a failed build (not an exception), with the error line', async () => {
    const r = await build(request(shas[3]));
    expect(r.status).toBe('fail');
    expect(r.errors).toBeGreaterThanOrEqual(1);
    expect(r.errorLines.length).toBeGreaterThanOrEqual(1);
    expect(r.errorLines.length).toBeLessThanOrEqual(5);
    expect(r.errorLines[0]).toMatch(/^drivers\/fixture\/broken_\w+\.c:\d+:\d+: error: /);
    expect(r.message).toBe('make bzImage failed');
    expect(Object.keys(r.artifacts).sort()).toEqual(['config', 'log']);
    expect(await text(r.artifacts.log.key)).toMatch(/error: expected ';'/);
  });

  it('builds the fixing commit from a clean worktree (the broken file is gone)', async () => {
    const r = await build(request(shas[4]));
    expect(r).toMatchObject({ status: 'pass', errors: 0 });
    expect(existsSync(join(buildDirs(deps.workDir, 'demo', defconfig.name).src, 'drivers/fixture'))).toBe(true);
  });

  it('gives the same kernel from a cold build directory as from the warm one', async () => {
    const warm = await build(request(shas[5]));
    const cold = await createBuildActivities({ ...deps, workDir: join(dir, 'cold-builder') }).buildKernel(
      request(shas[5]),
    );
    expect(cold.status).toBe('pass');
    expect((await store.get(cold.artifacts.kernel.key)).equals(await store.get(warm.artifacts.kernel.key))).toBe(true);
  });

  it('runs two builds of one tree and config one after the other, each with a whole log', async () => {
    const [a, b] = await Promise.all([build(request(shas[1])), build(request(shas[5]))]);
    expect([a.status, b.status]).toEqual(['pass', 'pass']);
    for (const r of [a, b]) {
      const log = await text(r.artifacts.log.key);
      expect(log.match(/^\$ make .* bzImage$/gm)).toHaveLength(1);
      expect(log.match(/^bootfarm: result: pass$/gm)).toHaveLength(1);
    }
    // neither build saw the other's checkout: the first commit's kernel is the one built at the start
    expect((await store.get(a.artifacts.kernel.key)).equals(firstKernel)).toBe(true);
  });

  it('merges config fragments (kconfig lines) and takes gcc-12 when it is installed', async () => {
    const config: BuildConfig = {
      ...defconfig,
      name: 'x86_64-small',
      fragments: ['CONFIG_CC_OPTIMIZE_FOR_SIZE=y', '# CONFIG_PRINTK is not set'],
      toolchain: 'gcc-12',
    };
    const r = await build(request(shas[5], config));
    expect(r.status).toBe('pass');
    const kconfig = await text(r.artifacts.config.key);
    expect(kconfig).toMatch(/^CONFIG_CC_OPTIMIZE_FOR_SIZE=y$/m);
    expect(kconfig).toMatch(/^# CONFIG_PRINTK is not set$/m);
    expect(kconfig).not.toMatch(/^CONFIG_PRINTK=y$/m);
    expect(await text(r.artifacts.log.key)).toContain("'CC=ccache gcc-12'");
  });

  it('fails a build whose config fragment file is not in the tree', async () => {
    const config: BuildConfig = { ...defconfig, name: 'x86_64-frag', fragments: ['kernel/configs/missing.config'] };
    const r = await build(request(shas[5], config));
    expect(r).toMatchObject({
      status: 'fail',
      errors: 1,
      errorLines: ['config fragment kernel/configs/missing.config is not in the tree'],
    });
  });

  it("fails a build whose defconfig the tree does not have, saying so, without passing off the last build's .config", async () => {
    const r = await build(request(shas[5], { ...defconfig, defconfig: 'nosuch_defconfig' }));
    expect(r.status).toBe('fail');
    expect(r.errorLines.join('\n')).toContain("Can't find default configuration");
    expect(r.artifacts.config).toBeUndefined();
  });

  it('gives non-retryable errors for a tree URL that cannot be fetched and a commit that does not exist', async () => {
    const badUrl = await failureOf(
      build({ ...request(shas[1]), tree: 'elsewhere', url: join(dir, 'no-such-repo.git') }),
    );
    expect(badUrl).toBeInstanceOf(ApplicationFailure);
    expect((badUrl as ApplicationFailure).type).toBe(ErrorType.repositoryUnavailable);
    expect(isNonRetryable(badUrl)).toBe(true);

    const badSha = await failureOf(build(request('0123456789abcdef0123456789abcdef01234567')));
    expect((badSha as ApplicationFailure).type).toBe(ErrorType.unknownRevision);
    expect(badSha.message).toContain('0123456789abcdef0123456789abcdef01234567');
    expect(isNonRetryable(badSha)).toBe(true);
  });

  it("builds Bootfarm's revert of a culprit that only the bisection's mirror has, making the same commit itself", async () => {
    // the bisection's mirror, as on an orchestrator on another host
    const bisectMirrors = join(dir, 'bisect-mirrors');
    const bisectMirror = await ensureMirror(bisectMirrors, 'demo', repo.url);
    const revert = { bad: shas[4], culprit: shas[2] };
    const made = await createRevert(bisectMirror, revert.bad, revert.culprit, mirrorLockPath(bisectMirrors, 'demo'));
    if (!made.applied) throw new Error(`the fixture's revert should apply: ${made.reason}`);

    const unknown = await failureOf(build(request(made.sha)));
    expect((unknown as ApplicationFailure).type).toBe(ErrorType.unknownRevision);

    // a revert that would make another commit than the one asked for is refused, not built
    const other = await failureOf(build({ ...request(made.sha), revert: { bad: shas[4], culprit: shas[1] } }));
    expect((other as ApplicationFailure).type).toBe(ErrorType.unknownRevision);
    expect(other.message).toContain(made.sha);
    expect(isNonRetryable(other)).toBe(true);

    const r = await build({ ...request(made.sha), revert });
    expect(r.status).toBe('pass');
    expect(r.warnings).toBe(0); // the reverted commit is the one that added the warning
    expect(await text(r.artifacts.log.key)).toContain(made.sha);
  });

  it.each<[string, Omit<Partial<BuildRequest>, 'config'> & { config?: Partial<BuildConfig> }]>([
    ['a config name with a shell command', { config: { name: 'x;touch /tmp/pwned' } }],
    ['a defconfig with a command substitution', { config: { defconfig: '$(reboot)' } }],
    ['a tree name with a space', { tree: 'demo tree' }],
    ['an arch that is not in the table', { config: { arch: 'x86_64;id' } }],
    ['a fragment path leaving the tree', { config: { fragments: ['../../etc/passwd.config'] } }],
    ['a toolchain with a command', { config: { toolchain: 'gcc;id' } }],
    ['a sha with an option', { sha: '--upload-pack=x' }],
    ['a branch name for a sha', { sha: 'master' }],
    ['a revert whose culprit is an option', { revert: { bad: 'a'.repeat(40), culprit: '--output=/tmp/pwned' } }],
  ])('refuses %s before running anything', async (_what, change) => {
    const req = { ...request(shas[1]), ...change, config: { ...defconfig, ...change.config } } as BuildRequest;
    const e = await failureOf(build(req));
    expect(e).toBeInstanceOf(ApplicationFailure);
    expect((e as ApplicationFailure).type).toBe(ErrorType.invalidInput);
    expect((e as ApplicationFailure).nonRetryable).toBe(true);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('throws a retryable infrastructure error when the builder cannot run make', async () => {
    const noMake = createBuildActivities({ ...deps, env: { PATH: join(dir, 'empty-path') } });
    const e = await failureOf(noMake.buildKernel(request(shas[1])));
    expect(e.message).toMatch(/make/);
    expect(isNonRetryable(e)).toBe(false);
  });

  it('kills make when the activity is cancelled, and the build directory is usable again at once', async () => {
    const config: BuildConfig = { ...defconfig, name: 'x86_64-cancel' };
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: { step: string }) => {
      if (d.step === 'make bzImage') env.cancel();
    });
    const e = await failureOf(asActivity(env, () => build(request(shas[5], config))));
    expect(e).toBeInstanceOf(CancelledFailure);
    expect(existsSync(join(buildDirs(deps.workDir, 'demo', config.name).obj, 'arch/x86/boot/bzImage'))).toBe(false);
    expect((await build(request(shas[5], config))).status).toBe('pass');
  });
});

describe('build log parsing', () => {
  it('counts gcc and ld warnings and errors and keeps the first error lines', () => {
    const s = parseBuildLog(
      [
        '  CC      kernel/fork.o',
        'kernel/fork.c:12:5: warning: unused variable ‘x’ [-Wunused-variable]',
        'drivers/a.c:3: warning: no column here',
        'ld: warning: arch/x86/boot/compressed/vmlinux has a LOAD segment with RWX permissions',
        'drivers/b.c:7:17: error: expected ‘;’ before ‘}’ token',
        'drivers/c.c:1:10: fatal error: nope.h: No such file or directory',
        'make[3]: *** [scripts/Makefile.build:250: drivers/b.o] Error 1',
        'make: *** [Makefile:1900: drivers] Error 2',
      ].join('\n'),
    );
    expect(s).toMatchObject({ lines: 8, warnings: 3, errors: 2 });
    expect(s.errorLines).toEqual([
      'drivers/b.c:7:17: error: expected ‘;’ before ‘}’ token',
      'drivers/c.c:1:10: fatal error: nope.h: No such file or directory',
    ]);
  });

  it("takes make's own reason when no compiler error explains a failure, and ignores kconfig remarks of a good build", () => {
    const ok = parseBuildLog(
      "*** Default configuration is based on 'x86_64_defconfig'\n#\n# configuration written to .config\n",
    );
    expect(ok).toMatchObject({ errors: 0, errorLines: [] });
    const failed = parseBuildLog(
      '***\n*** Can\'t find default configuration "arch/x86/configs/x_defconfig"!\n***\nmake[2]: *** [scripts/kconfig/Makefile:87: x_defconfig] Error 1\n',
    );
    expect(failed.errors).toBe(1);
    expect(failed.errorLines[0]).toContain("Can't find default configuration");
  });

  it("flags a full disk and a killed compiler as the builder's fault", () => {
    expect(parseBuildLog('fs/x.o: No space left on device\n').infraLines).toHaveLength(1);
    expect(parseBuildLog('gcc: fatal error: Killed signal terminated program cc1\n').infraLines).toHaveLength(1);
    expect(parseBuildLog('kernel/a.c:1:1: error: bad\n').infraLines).toHaveLength(0);
  });

  it('keeps error lines short and few', () => {
    const long = Array.from({ length: 20 }, (_, i) => `f${i}.c:1:1: error: ${'x'.repeat(500)}`).join('\n');
    const s = parseBuildLog(long);
    expect(s.errors).toBe(20);
    expect(s.errorLines).toHaveLength(5);
    for (const l of s.errorLines) expect(l.length).toBeLessThanOrEqual(240);
  });
});

describe('build helpers', () => {
  it('merges fragment lines by symbol, last one wins', () => {
    expect(
      mergeConfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\n', [
        'CONFIG_B=y',
        '# CONFIG_A is not set',
        'not a config line',
      ]),
    ).toBe('CONFIG_C=y\nCONFIG_B=y\n# CONFIG_A is not set\n');
  });

  it('picks the toolchain from what is installed', () => {
    const have = (names: string[]) => (n: string) => (names.includes(n) ? `/usr/bin/${n}` : null);
    expect(resolveToolchain('gcc-12', '', { ccache: true, which: have(['gcc', 'gcc-12', 'ccache']) }).makeVars).toEqual(
      ['CC=ccache gcc-12'],
    );
    expect(
      resolveToolchain('gcc-12', 'aarch64-linux-gnu-', { ccache: false, which: have(['aarch64-linux-gnu-gcc']) })
        .makeVars,
    ).toEqual(['CC=aarch64-linux-gnu-gcc']);
    expect(resolveToolchain('gcc', '', { ccache: true, which: have(['gcc']) }).makeVars).toEqual(['CC=gcc']);
    expect(resolveToolchain('clang-16', '', { ccache: false, which: have(['clang-16']) }).makeVars).toEqual([
      'LLVM=-16',
    ]);
    expect(resolveToolchain('clang', '', { ccache: true, which: have(['clang', 'ccache']) }).makeVars).toEqual([
      'LLVM=1',
      'CC=ccache clang',
    ]);
    const missing = (() => {
      try {
        resolveToolchain('clang', '', { ccache: false, which: have([]) });
      } catch (e) {
        return e as ApplicationFailure;
      }
    })();
    expect(missing?.type).toBe(RetryableErrorType.buildInfra);
    expect(missing?.nonRetryable).toBe(false);
  });

  it('formats the build timestamp the way date(1) does', () => {
    expect(kbuildTimestamp(0)).toBe('Thu Jan  1 00:00:00 UTC 1970');
    expect(kbuildTimestamp(1667639000)).toBe('Sat Nov  5 09:03:20 UTC 2022');
  });
});
