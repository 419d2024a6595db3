/**
 * A boot's test plan on the QEMU and shell labs, with real fixture kernels in
 * real QEMU: the plan reaches the guest on its kernel command line (or a
 * shell lab's environment), the suites run after the boot marker in the same
 * session, and the results come back as the boot's results file and summary.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../plumbing/loadConfig';
import type { PlatformConfig } from '../../domain/config';
import type { ArtifactRef, BootRequest } from '../../domain/types';
import type { BootTests } from '../../domain/testPlans';
import { DirStore } from '../../plumbing/store/dirStore';
import { readTestResults, testResultsKey } from '../../plumbing/store/testResults';
import { bootLogKey, type BootContext } from '../../activities/labs/adapter';
import { QemuAdapter } from '../../activities/labs/qemu';
import { ShellAdapter } from '../../activities/labs/shell';
import { buildKernel } from '../../fixtures/build';
import { exportTree, linearHistory } from '../../fixtures/generator';

const config = parseConfig(`
platforms:
  - { name: qemu-x86_64, arch: x86_64, memoryMb: 128 }
  - { name: qemu-arm, arch: arm, soc: qemu-virt, memoryMb: 128 }
labs:
  - { name: local, adapter: qemu, platforms: [qemu-x86_64, qemu-arm] }
`);
const [x86, arm] = config.platforms;
const smoke: BootTests = {
  suites: [
    { plan: 'smoke', suite: 'string', prefix: 'fixture' },
    { plan: 'smoke', suite: 'kernel', prefix: 'fixture' },
  ],
  timeoutMs: 20_000,
};

let root: string;
let store: DirStore;
const kernels = {} as Record<'good' | 'broken' | 'panic' | 'arm', ArtifactRef>;
const BROKEN_SUBJECT = 'lib/string: copy the tail backwards';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-plan-tests-'));
  store = new DirStore(join(root, 'store'));
  const { repo, shas } = await linearHistory(join(root, 'repo'), 3, {
    1: { subject: BROKEN_SUBJECT, effect: 'break-test' },
    2: { subject: 'Revert the copy', effect: 'fix-test' },
    3: { subject: 'sched: lose the runqueue', effect: 'break-boot' },
  });
  const builds = { good: shas[0], broken: shas[1], panic: shas[3] };
  for (const [name, sha] of Object.entries(builds) as [keyof typeof builds, string][]) {
    const src = join(root, `src-${name}`);
    await exportTree(repo, sha, src);
    const build = await buildKernel(src, { outDir: join(root, `out-${name}`) });
    if (!build.ok) throw new Error(`fixture build of ${name} failed:\n${build.log}`);
    kernels[name] = await store.putFile(`builds/fx/${name}/bzImage`, build.image);
  }
  const armSrc = join(root, 'src-arm');
  await exportTree(repo, shas[0], armSrc);
  const armBuild = await buildKernel(armSrc, {
    arch: 'arm',
    defconfig: 'multi_v7_defconfig',
    outDir: join(root, 'out-arm'),
  });
  if (!armBuild.ok) throw new Error(`fixture build for arm failed:\n${armBuild.log}`);
  kernels.arm = await store.putFile('builds/fx/arm/zImage', armBuild.image);
}, 300_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let seq = 0;
function request(kernel: ArtifactRef, plat: PlatformConfig = x86, over: Partial<BootRequest> = {}): BootRequest {
  seq++;
  return {
    tree: 'fx',
    sha: 'a'.repeat(40),
    describe: 'v0.1',
    configName: `${plat.arch}-defconfig`,
    arch: plat.arch,
    platform: plat,
    lab: 'local',
    kernel,
    timeoutMs: 30_000,
    bootKey: `build:fx:aaaaaaaaaaaa:${plat.arch}-defconfig:${plat.name}:local:${seq}`,
    tests: smoke,
    ...over,
  };
}

async function context(): Promise<BootContext & { lines: string[] }> {
  const workDir = await mkdtemp(join(root, 'work-'));
  const lines: string[] = [];
  return {
    store,
    workDir,
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: (l) => lines.push(l),
    lines,
  };
}

const statuses = async (ref: ArtifactRef | undefined) =>
  Object.fromEntries((await readTestResults(store, ref!)).results.map((r) => [r.path, r.status]));

describe('test plans on the QEMU lab', () => {
  const qemu = new QemuAdapter({ heartbeatMs: 200 });

  it('runs the suites after the marker in the same boot and returns per-test results, their lines in the stored console', async () => {
    const req = request(kernels.good);
    const result = await qemu.boot(req, await context());
    expect(result).toMatchObject({ status: 'pass', message: 'BOOTFARM: boot ok' });
    expect(result.tests).toMatchObject({
      counts: { PASS: 7, FAIL: 0, SKIP: 1, ERROR: 0, MISS: 0 },
      notPassing: [{ path: 'fixture.kernel.modules', status: 'SKIP', reason: 'CONFIG_MODULES is not set' }],
      results: { key: testResultsKey(bootLogKey(req.bootKey)) },
    });
    const console = (await store.get(result.log!.key)).toString('utf8');
    // one boot: the marker once, the plan on the kernel's command line
    expect(console.split('BOOTFARM: boot ok').length).toBe(2);
    expect(console).toContain('Command line: console=ttyS0 bootfarm.tests=string,kernel');
    const file = await readTestResults(store, result.tests!.results!);
    expect(file).toMatchObject({
      format: 'bootfarm-test-results',
      version: 1,
      bootKey: req.bootKey,
      source: 'console',
    });
    const memcpy = file.results.find((r) => r.path === 'fixture.string.memcpy')!;
    expect(console.split('\n')[memcpy.line! - 1].trimEnd()).toBe('  ok 3 memcpy');
    // a passing result keeps no log lines: the file stays small
    expect(memcpy.log).toEqual([]);
  });

  it('a commit that breaks a case: that case and its suite FAIL, with the failing expectation in the log', async () => {
    const result = await qemu.boot(request(kernels.broken), await context());
    expect(result.status).toBe('pass');
    expect(result.tests!.counts).toMatchObject({ PASS: 5, FAIL: 2, SKIP: 1 });
    expect(result.tests!.notPassing.map((n) => `${n.path}:${n.status}`)).toEqual([
      'fixture.string.memcpy:FAIL',
      'fixture.string:FAIL',
      'fixture.kernel.modules:SKIP',
    ]);
    const memcpy = (await readTestResults(store, result.tests!.results!)).results.find(
      (r) => r.path === 'fixture.string.memcpy',
    )!;
    expect(memcpy.log.join('\n')).toMatch(/EXPECTATION FAILED at drivers\/fixture\/testbug_\w+\.c:\d+/);
    expect(memcpy.log.join('\n')).toContain(BROKEN_SUBJECT);
  });

  it('a kernel that panics in the middle of its tests: the boot passed, the unfinished suite is an ERROR', async () => {
    const plat = { ...x86, kernelArgs: 'fixture.test_panic' };
    const result = await qemu.boot(request(kernels.good, plat), await context());
    expect(result.status).toBe('pass');
    expect(await statuses(result.tests!.results)).toMatchObject({
      'fixture.string': 'PASS',
      'fixture.kernel.cmdline': 'PASS',
      'fixture.kernel': 'ERROR',
    });
    expect(result.tests!.notPassing.find((n) => n.path === 'fixture.kernel')!.reason).toMatch(
      /Kernel panic - not syncing: fixture\.test_panic/,
    );
  });

  it('a boot that fails: every planned suite is MISS, nothing parsed, no results file', async () => {
    const result = await qemu.boot(request(kernels.panic), await context());
    expect(result.status).toBe('fail');
    expect(result.tests).toEqual({
      counts: { PASS: 0, FAIL: 0, SKIP: 0, ERROR: 0, MISS: 2 },
      notPassing: [
        {
          path: 'fixture.string',
          plan: 'smoke',
          status: 'MISS',
          reason: expect.stringMatching(/^not run: the boot ended fail: .*Kernel panic/),
        },
        {
          path: 'fixture.kernel',
          plan: 'smoke',
          status: 'MISS',
          reason: expect.stringMatching(/^not run: the boot ended fail/),
        },
      ],
    });
  });

  it('32-bit ARM prints the same suite: the same paths', async () => {
    const result = await qemu.boot(request(kernels.arm, arm, { arch: 'arm' }), await context());
    expect(result.status).toBe('pass');
    expect(result.tests!.counts).toMatchObject({ PASS: 7, SKIP: 1, FAIL: 0, ERROR: 0 });
    expect(Object.keys(await statuses(result.tests!.results))).toContain('fixture.string.memcpy');
  });

  it('a boot without a plan is stopped right after its marker and carries no tests', async () => {
    const result = await qemu.boot(request(kernels.good, x86, { tests: undefined }), await context());
    expect(result.status).toBe('pass');
    expect(result).not.toHaveProperty('tests');
    expect((await store.get(result.log!.key)).toString('utf8')).not.toContain('bootfarm.tests=');
  });
});

describe('test plans on a shell lab', () => {
  /** A board that reports the plan it was given and prints KTAP for it; "slow" stops printing mid-suite. */
  const BOARD = `#!/bin/sh
echo "plan=$BOOTFARM_TEST_PLAN suites=$BOOTFARM_TEST_SUITES tests-timeout=$BOOTFARM_TEST_TIMEOUT timeout=$BOOTFARM_TIMEOUT"
echo "BOOTFARM: boot ok"
echo "KTAP version 1"
echo "1..1"
echo "  KTAP version 1"
echo "  # Subtest: $BOOTFARM_TEST_SUITES"
echo "  1..2"
echo "  ok 1 first"
case $BOOTFARM_KERNEL_ARGS in
slow) sleep 600 ;;
esac
echo "  ok 2 second"
echo "ok 1 $BOOTFARM_TEST_SUITES"
exit 0
`;
  let program: string;
  beforeAll(async () => {
    program = join(root, 'board.sh');
    await writeFile(program, BOARD);
    await chmod(program, 0o755);
  });
  const board: BootTests = { suites: [{ plan: 'board-checks', suite: 'gpio', prefix: 'board' }], timeoutMs: 5_000 };
  const shellRequest = (kernelArgs: string) =>
    request(kernels.good, { ...x86, name: 'board-a', kernelArgs }, { lab: 'scripts', tests: board });

  it('gets the plan in its environment and its KTAP becomes results', async () => {
    const result = await new ShellAdapter({ program }).boot(shellRequest(''), await context());
    expect(result.status).toBe('pass');
    expect((await store.get(result.log!.key)).toString('utf8')).toContain(
      'plan=board-checks suites=gpio tests-timeout=5 timeout=35',
    );
    expect(await statuses(result.tests!.results)).toEqual({
      'board.gpio.first': 'PASS',
      'board.gpio.second': 'PASS',
      'board.gpio': 'PASS',
    });
  });

  it("tests that outlive the plan's timeout: stopped, the boot still passes, the cut suite is an ERROR saying why", async () => {
    const started = Date.now();
    const result = await new ShellAdapter({ program }).boot(shellRequest('slow'), await context());
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.status).toBe('pass');
    expect(await statuses(result.tests!.results)).toEqual({ 'board.gpio.first': 'PASS', 'board.gpio': 'ERROR' });
    expect(result.tests!.notPassing[0].reason).toMatch(
      /the output ended.*the lab stopped the tests at the plans' timeout of 5s/,
    );
  });

  it('labs/shell/qemu-boot.sh passes the plan to the kernel, whose suite comes back', async () => {
    const script = new ShellAdapter({ program: join(__dirname, '../../labs/shell/qemu-boot.sh') });
    const result = await script.boot(request(kernels.broken, x86, { lab: 'farm2' }), await context());
    expect(result.status).toBe('pass');
    expect(result.tests!.counts).toMatchObject({ PASS: 5, FAIL: 2, SKIP: 1 });
    expect((await store.get(result.log!.key)).toString('utf8')).toContain('bootfarm.tests=string,kernel');
  });
});
