import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { parseConfig } from '../../plumbing/loadConfig';
import type { LabConfig, PlatformConfig } from '../../domain/config';
import type { ArtifactRef, BootRequest, BootResult } from '../../domain/types';
import { DirStore } from '../../plumbing/store/dirStore';
import { ArtifactNotFoundError } from '../../plumbing/store/types';
import { bootLogKey, type BootContext, type LabAdapter } from '../../activities/labs/adapter';
import { QemuAdapter } from '../../activities/labs/qemu';
import { AdapterNotAvailableError, createLabActivities } from '../../activities/labs';
import { buildKernel } from '../../fixtures/build';
import { exportTree, linearHistory } from '../../fixtures/generator';
import { BenchAdapter } from '../../bench/support/instantLab';

const config = parseConfig(`
platforms:
  - { name: qemu-x86_64, arch: x86_64, memoryMb: 128, kernelArgs: "loglevel=7 fixture.lab=yes" }
  - { name: qemu-arm, arch: arm, soc: qemu-virt, memoryMb: 128, kernelArgs: "loglevel=7" }
labs:
  - { name: local, adapter: qemu, platforms: [qemu-x86_64, qemu-arm] }
  - { name: bench, adapter: bench, platforms: [qemu-x86_64] }
  - { name: remote, adapter: lava, platforms: [qemu-x86_64], lava: { url: "http://127.0.0.1:1/", token: t } }
`);
const platform = config.platforms[0];
const lab = (name: string): LabConfig => config.labs.find((l) => l.name === name)!;

let root: string;
let store: DirStore;
type Kernel = 'good' | 'panic' | 'hang' | 'arm';
const kernels = {} as Record<Kernel, ArtifactRef>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-qemu-'));
  store = new DirStore(join(root, 'store'));
  const { repo, shas } = await linearHistory(join(root, 'repo'), 3, {
    1: { subject: 'sched: lose the runqueue', effect: 'break-boot' },
    2: { subject: 'Revert "sched: lose the runqueue"', effect: 'fix-boot' },
    3: { subject: 'sched: wait for the runqueue', effect: 'hang-boot' },
  });
  const revs = { good: shas[0], panic: shas[1], hang: shas[3] };
  for (const [name, sha] of Object.entries(revs) as [keyof typeof revs, string][]) {
    const src = join(root, `src-${name}`);
    await exportTree(repo, sha, src);
    const build = await buildKernel(src, { outDir: join(root, `out-${name}`) });
    if (!build.ok) throw new Error(`fixture build of ${name} failed:\n${build.log}`);
    kernels[name] = await store.putFile(`builds/fx/${name}/bzImage`, build.image);
  }
  const armSrc = join(root, 'src-arm');
  await exportTree(repo, shas[0], armSrc);
  const arm = await buildKernel(armSrc, {
    arch: 'arm',
    defconfig: 'multi_v7_defconfig',
    outDir: join(root, 'out-arm'),
  });
  if (!arm.ok) throw new Error(`fixture build for arm failed:\n${arm.log}`);
  kernels.arm = await store.putFile('builds/fx/arm/zImage', arm.image);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let seq = 0;
function request(
  kernel: ArtifactRef,
  overrides: Partial<BootRequest> = {},
  plat: PlatformConfig = platform,
): BootRequest {
  seq++;
  return {
    tree: 'fx',
    sha: 'a'.repeat(40),
    describe: 'v0.1-1-gaaaaaaa',
    configName: 'x86_64-defconfig',
    arch: 'x86_64',
    platform: plat,
    lab: 'local',
    kernel,
    timeoutMs: 30_000,
    bootKey: `build:fx:aaaaaaaaaaaa:x86_64-defconfig/${plat.name}/local/${seq}`,
    ...overrides,
  };
}

interface Recorder extends BootContext {
  heartbeats: unknown[];
  lines: string[];
  workDir: string;
}

async function context(signal: AbortSignal = new AbortController().signal): Promise<Recorder> {
  const workDir = await mkdtemp(join(root, 'work-'));
  const heartbeats: unknown[] = [];
  const lines: string[] = [];
  return { store, workDir, signal, heartbeats, lines, heartbeat: (d) => heartbeats.push(d), log: (l) => lines.push(l) };
}

/** QEMU processes whose command line mentions `marker` (each test boots from its own work directory). */
async function qemuProcesses(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv0 = cmdline.split('\0')[0];
    if (basename(argv0).startsWith('qemu-system') && cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

const startedPid = (lines: string[]) =>
  Number(/pid (\d+)/.exec(lines.find((l) => l.startsWith('started ')) ?? '')?.[1]);

describe('QEMU lab adapter, real QEMU booting real fixture builds', () => {
  const adapter = new QemuAdapter({ heartbeatMs: 100 });

  it('a kernel that boots passes, and its whole console log is stored', async () => {
    const ctx = await context();
    const req = request(kernels.good);
    const result = await adapter.boot(req, ctx);
    expect(result).toMatchObject({
      status: 'pass',
      platform: 'qemu-x86_64',
      lab: 'local',
      message: 'BOOTFARM: boot ok',
    });
    expect(result.durationMs).toBeLessThan(10_000);
    expect(result.log?.key).toBe(bootLogKey(req.bootKey));
    expect(result.log?.key).toMatch(
      /^boots\/build:fx:aaaaaaaaaaaa:x86_64-defconfig_qemu-x86_64_local_\d+\/console\.log$/,
    );
    const log = (await store.get(result.log!.key)).toString('utf8');
    expect(result.log?.size).toBe(Buffer.byteLength(log));
    expect(log).toMatch(/\[ {4}0\.000000\] Linux version 6\.1\.0-fixture/);
    expect(log).toContain('Command line: console=ttyS0 loglevel=7 fixture.lab=yes');
    expect(log).toContain('Memory: 1'); // -m 128 reached the guest
    expect(log).toContain('BOOTFARM: boot ok');
    expect(ctx.lines.some((l) => l.includes('-append console=ttyS0 loglevel=7 fixture.lab=yes'))).toBe(true);
    expect(await readdir(ctx.workDir)).toEqual([]); // the boot's temporary directory is gone
    expect(await qemuProcesses(ctx.workDir)).toEqual([]);
  });

  it('a kernel that panics fails with the panic line as the message', async () => {
    const ctx = await context();
    const result = await adapter.boot(request(kernels.panic), ctx);
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/^\[ +\d+\.\d{6}\] Kernel panic - not syncing: fixture: sched: lose the runqueue$/);
    const log = (await store.get(result.log!.key)).toString('utf8');
    expect(log).toContain('---[ end Kernel panic - not syncing: fixture: sched: lose the runqueue ]---');
    expect(log).not.toContain('BOOTFARM: boot ok');
  });

  it('a kernel that hangs fails when the boot times out, and QEMU is killed', async () => {
    const ctx = await context();
    const started = Date.now();
    const result = await adapter.boot(request(kernels.hang, { timeoutMs: 2000 }), ctx);
    expect(result).toMatchObject({ status: 'fail', message: 'boot timed out after 2s' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(ctx.heartbeats.length).toBeGreaterThanOrEqual(10);
    expect((await store.get(result.log!.key)).toString('utf8')).toContain('waiting forever');
    const pid = startedPid(ctx.lines);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow(); // QEMU is gone, not orphaned
    expect(await qemuProcesses(ctx.workDir)).toEqual([]);
  });

  it('QEMU is stopped shortly after the verdict when the kernel does not end the VM itself', async () => {
    const ctx = await context();
    // the hanging kernel never exits, so the adapter must stop it once the line it waits for has appeared
    const plat = { ...platform, successPattern: '/fixture: .*: waiting forever/' };
    const result = await new QemuAdapter({ graceMs: 300 }).boot(
      request(kernels.hang, { timeoutMs: 30_000 }, plat),
      ctx,
    );
    expect(result.status).toBe('pass');
    expect(result.message).toMatch(/fixture: sched: wait for the runqueue: waiting forever$/);
    expect(result.durationMs).toBeLessThan(10_000);
    expect(await qemuProcesses(ctx.workDir)).toEqual([]);
  });

  it('a cancelled boot stops QEMU and throws', async () => {
    const abort = new AbortController();
    const ctx = await context(abort.signal);
    const boot = adapter.boot(request(kernels.hang, { timeoutMs: 60_000 }), ctx);
    // QEMU itself runs a moment after 'started': the programs that bind its life (lifeBound.ts) exec it
    while ((await qemuProcesses(ctx.workDir)).length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(await qemuProcesses(ctx.workDir)).toHaveLength(1);
    abort.abort(new Error('operator cancelled the run'));
    await expect(boot).rejects.toThrow('operator cancelled the run');
    expect(await qemuProcesses(ctx.workDir)).toEqual([]);
    expect(await readdir(ctx.workDir)).toEqual([]);
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    "QEMU killed by %s from outside mid-boot (OOM killer, operator) is the lab's failure, thrown to be retried, never fail",
    async (signal) => {
      const ctx = await context();
      // a kernel that takes seconds to boot: QEMU is killed while the console is still silent on the verdict
      const slow = { ...platform, kernelArgs: `${platform.kernelArgs} fixture.delay=20` };
      const boot = adapter.boot(request(kernels.good, { timeoutMs: 60_000 }, slow), ctx);
      let pids: number[] = [];
      while (!(pids = await qemuProcesses(ctx.workDir)).length) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));
      for (const pid of pids) process.kill(pid, signal); // QEMU alone, as the OOM killer picks it
      await expect(boot).rejects.toThrow(
        new RegExp(
          `^QEMU was killed by ${signal} from outside the boot \\(host OOM killer or an operator\\) before a verdict`,
        ),
      );
      await expect(boot).rejects.toMatchObject({ name: 'QemuKilledError' });
      expect(await qemuProcesses(ctx.workDir)).toEqual([]);
      expect(await readdir(ctx.workDir)).toEqual([]);
    },
  );

  it('a kernel that panics keeps its verdict when QEMU is then killed before it could be stopped', async () => {
    const ctx = await context();
    // a long grace after the verdict: QEMU is still running (printing the panic trace) when the signal comes
    const boot = new QemuAdapter({ graceMs: 30_000 }).boot(request(kernels.panic, { timeoutMs: 60_000 }), ctx);
    while (!ctx.lines.some((l) => l.startsWith('console verdict fail'))) await new Promise((r) => setTimeout(r, 20));
    for (const pid of await qemuProcesses(ctx.workDir)) process.kill(pid, 'SIGKILL');
    expect(await boot).toMatchObject({ status: 'fail', message: expect.stringMatching(/Kernel panic - not syncing/) });
  });

  it('a kernel that ends the VM without the success pattern fails and says how far it got', async () => {
    const ctx = await context();
    const plat = { ...platform, successPattern: 'Welcome to Debian', failurePatterns: [] };
    const result = await adapter.boot(request(kernels.good, {}, plat), ctx);
    expect(result).toMatchObject({
      status: 'fail',
      message:
        'QEMU exited with status 1 before "Welcome to Debian"; last console line: # Totals: pass:5 fail:0 skip:1',
    });
  });

  it('a 32-bit ARM kernel boots in qemu-system-arm -M virt, on its PL011 console, and ends the VM itself', async () => {
    const ctx = await context();
    const plat = config.platforms.find((p) => p.name === 'qemu-arm')!;
    const req = request(kernels.arm, { arch: 'arm', configName: 'arm-multi_v7_defconfig' }, plat);
    const result = await adapter.boot(req, ctx);
    expect(result).toMatchObject({ status: 'pass', platform: 'qemu-arm', message: 'BOOTFARM: boot ok' });
    expect(result.durationMs).toBeLessThan(10_000);
    expect(
      ctx.lines.some((l) =>
        /^qemu-system-arm -M virt -cpu cortex-a15 -nographic .*-append console=ttyAMA0 loglevel=7$/.test(l),
      ),
    ).toBe(true);
    const log = (await store.get(result.log!.key)).toString('utf8');
    expect(log).toContain('Linux version 6.1.0-fixture (fixture@bootfarm) (arm-linux-gnueabihf-gcc');
    expect(log).toContain('Command line: console=ttyAMA0 loglevel=7');
    expect(log).toContain('OF: fdt: Machine model: linux,dummy-virt');
    // the KTAP after the marker is in the stored log: the kernel powered off (PSCI) before the adapter's grace ran out
    expect(log.replace(/\r/g, '')).toMatch(
      /\nBOOTFARM: boot ok\nKTAP version 1\n[^]*\n# Totals: pass:5 fail:0 skip:1\n$/,
    );
    expect(await qemuProcesses(ctx.workDir)).toEqual([]);
  });

  it('lab problems are errors, not verdicts: a missing QEMU binary, a missing artifact', async () => {
    const ctx = await context();
    const noQemu = new QemuAdapter({ binaries: { x86_64: 'qemu-system-does-not-exist' } });
    await expect(noQemu.boot(request(kernels.good), ctx)).rejects.toThrow(
      /QEMU binary qemu-system-does-not-exist not found/,
    );
    await expect(adapter.boot(request({ key: 'builds/fx/none/bzImage', size: 1 }), ctx)).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
    const badOption = new QemuAdapter({ extraArgs: ['-no-such-option'] });
    await expect(badOption.boot(request(kernels.good), ctx)).rejects.toThrow(/failed: .*no-such-option/);
    expect(await store.exists(bootLogKey(request(kernels.good).bootKey))).toBe(false);
  });
});

describe('lab activities', () => {
  const workDir = () => mkdtemp(join(root, 'labwork-'));
  /** an activity context whose log lines are kept (and kept off the test output) */
  const activityEnv = () => {
    const logs: string[] = [];
    const env = new MockActivityEnvironment(undefined, {
      logger: new DefaultLogger('INFO', (entry) => logs.push(entry.message)),
    });
    return { env, logs };
  };
  const run = (env: MockActivityEnvironment, fn: (req: BootRequest) => Promise<BootResult>, req: BootRequest) =>
    env.run(fn, req) as Promise<BootResult>;

  it('bootKernel boots through the lab adapter with the activity heartbeat, and cancellation stops QEMU', async () => {
    const dir = await workDir();
    const { bootKernel } = createLabActivities({ lab: lab('local'), store, workDir: dir });
    const { env, logs } = activityEnv();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const passed = await run(env, bootKernel, request(kernels.good));
    expect(passed).toMatchObject({ status: 'pass', message: 'BOOTFARM: boot ok' });
    expect(heartbeats[0]).toEqual({ phase: 'fetching' });
    expect(logs.some((l) => /^started (\S*\/)?qemu-system-x86_64 \(pid \d+\)$/.test(l))).toBe(true);

    const cancelEnv = activityEnv().env;
    const cancelled = run(cancelEnv, bootKernel, request(kernels.hang, { timeoutMs: 60_000 }));
    while ((await qemuProcesses(dir)).length === 0) await new Promise((r) => setTimeout(r, 20));
    cancelEnv.cancel();
    await expect(cancelled).rejects.toBeInstanceOf(CancelledFailure);
    expect(await qemuProcesses(dir)).toEqual([]);
  });

  it('picks the adapter by lab: bench passes at once, a missing adapter is a clear error, adapters are pluggable', async () => {
    const dir = await workDir();
    const { env } = activityEnv();
    const bench = createLabActivities({
      lab: lab('bench'),
      store,
      workDir: dir,
      adapters: { bench: new BenchAdapter() },
    });
    const benchResult = await run(env, bench.bootKernel, request(kernels.good, { lab: 'bench' }));
    expect(benchResult).toMatchObject({ status: 'pass', lab: 'bench' });
    expect((await store.get(benchResult.log!.key)).toString()).toContain('bench');

    const remote = createLabActivities({ lab: lab('remote'), store, workDir: dir });
    await expect(run(env, remote.bootKernel, request(kernels.good, { lab: 'remote' }))).rejects.toThrow(
      AdapterNotAvailableError,
    );
    await expect(run(env, remote.bootKernel, request(kernels.good, { lab: 'remote' }))).rejects.toThrow(
      /adapter "lava" is not available in this worker/,
    );

    const seen: BootRequest[] = [];
    const lava: LabAdapter = {
      kind: 'lava',
      async boot(req, ctx) {
        seen.push(req);
        ctx.heartbeat();
        return { status: 'offline', platform: req.platform.name, lab: req.lab, durationMs: 0, message: 'no board' };
      },
    };
    const plugged = createLabActivities({ lab: lab('remote'), store, workDir: dir, adapters: { lava } });
    expect(await run(env, plugged.bootKernel, request(kernels.good, { lab: 'remote' }))).toMatchObject({
      status: 'offline',
      message: 'no board',
    });
    expect(seen).toHaveLength(1);

    const local = createLabActivities({ lab: lab('local'), store, workDir: dir });
    await expect(run(env, local.bootKernel, request(kernels.good, { lab: 'remote' }))).rejects.toThrow(
      /reached the worker of lab local/,
    );
  });
});
