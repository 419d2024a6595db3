/**
 * The `lava` lab adapter against a real LAVA server (Debian's lava-server and
 * lava-dispatcher 2023.01, installed and started by scripts/lava-lab) booting
 * Debian's own kernel with a busybox ramdisk in QEMU.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { platformSchema, type PlatformConfig } from '../../domain/config';
import type { ArtifactRef, BootRequest } from '../../domain/types';
import { bootLogKey, type BootContext } from '../../activities/labs/adapter';
import { LavaAdapter, LavaLabError } from '../../activities/labs/lava';
import { LavaApi } from '../../activities/labs/lavaApi';
import { renderLavaJob } from '../../activities/labs/lavaJob';
import { DirStore } from '../../plumbing/store/dirStore';
import { serveFiles } from '../../activities/labs/fileServer';

const ROOT = join(__dirname, '../..');
const LAB = join(ROOT, 'scripts/lava-lab');
const run = promisify(execFile);

async function lab(cmd: string, timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run(LAB, [cmd], { timeout: timeoutMs, maxBuffer: 1 << 20 });
  return stdout;
}

/** The busybox ramdisk of labs/lava/init, as a gzipped newc cpio. */
async function buildRamdisk(dir: string): Promise<Buffer> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'proc'));
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  await symlink('busybox', join(dir, 'bin/sh'));
  await copyFile(join(ROOT, 'labs/lava/init'), join(dir, 'init'));
  await chmod(join(dir, 'init'), 0o755);
  const { stdout } = await new Promise<{ stdout: Buffer }>((resolve, reject) => {
    const child = execFile(
      'cpio',
      ['-o', '-H', 'newc', '--quiet'],
      { cwd: dir, encoding: 'buffer', maxBuffer: 64 << 20 },
      (err, out) => (err ? reject(err) : resolve({ stdout: out })),
    );
    child.stdin?.end(['.', 'bin', 'bin/busybox', 'bin/sh', 'proc', 'init'].join('\n') + '\n');
  });
  return gzipSync(stdout);
}

let root: string;
let store: DirStore;
let kernel: ArtifactRef;
let ramdisk: ArtifactRef;
let api: LavaApi;
let adapter: LavaAdapter;
let startedHere = false;
let lava: { url: string; token: string };

beforeAll(async () => {
  // first run on a machine: apt installs LAVA (about 1.5 min here, up to 10 on a busy mirror)
  await lab('install', 20 * 60_000);
  startedHere = !(await lab('status').then(
    () => true,
    () => false,
  ));
  await lab('start', 5 * 60_000);
  const env = Object.fromEntries(
    (await lab('env'))
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  lava = { url: env.LAVA_URL, token: env.LAVA_TOKEN };
  api = new LavaApi(lava.url, lava.token);
  adapter = new LavaAdapter({ ...lava, pollMs: 500 });

  root = await mkdtemp(join(tmpdir(), 'bf-lava-'));
  store = new DirStore(join(root, 'store'));
  kernel = await store.putFile('lava-test/vmlinuz', (await lab('kernel', 5 * 60_000)).trim());
  ramdisk = await store.put('lava-test/ramdisk.cpio.gz', await buildRamdisk(join(root, 'ramdisk')));
}, 30 * 60_000);

afterAll(async () => {
  if (startedHere) await lab('stop');
  if (root) await rm(root, { recursive: true, force: true });
}, 120_000);

const platform = (over: Partial<PlatformConfig> = {}): PlatformConfig =>
  platformSchema.parse({ name: 'qemu-x86_64', arch: 'x86_64', ...over });

let seq = 0;
function request(plat: PlatformConfig, over: Partial<BootRequest> = {}): BootRequest {
  seq++;
  return {
    tree: 'debian',
    sha: 'b'.repeat(40),
    describe: 'v6.1-debian',
    configName: 'x86_64-debian',
    arch: 'x86_64',
    platform: plat,
    lab: 'lava',
    kernel,
    ramdisk,
    timeoutMs: 150_000,
    bootKey: `build:debian:bbbbbbbbbbbb:x86_64-debian/${plat.name}/lava/${seq}`,
    ...over,
  };
}

interface Recorder extends BootContext {
  heartbeats: { lavaJob?: number; state?: string }[];
  lines: string[];
}

async function context(signal: AbortSignal = new AbortController().signal): Promise<Recorder> {
  const workDir = await mkdtemp(join(root, 'work-'));
  const heartbeats: Recorder['heartbeats'] = [];
  const lines: string[] = [];
  return {
    store,
    workDir,
    signal,
    heartbeats,
    lines,
    heartbeat: (d) => {
      const beat = d as Recorder['heartbeats'][number];
      if (beat.lavaJob && !jobsOfTest.includes(beat.lavaJob)) jobsOfTest.push(beat.lavaJob);
      heartbeats.push(beat);
    },
    log: (l) => lines.push(l),
  };
}

const jobIdOf = (ctx: Recorder) => ctx.heartbeats.find((h) => h.lavaJob)?.lavaJob;

/** Jobs of the running test: afterEach cancels what is still queued or running, so no test waits behind another's. */
let jobsOfTest: number[] = [];
const JOB_TEST_MS = 200_000;

/**
 * A test that runs LAVA jobs. When it fails, or takes longer than a job ever
 * should (15–20 s each here), its error carries what LAVA itself says: the
 * lab's status, the device and the ends of the service logs.
 */
function jobIt(name: string, fn: () => Promise<void>): void {
  it(
    name,
    async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no verdict after ${JOB_TEST_MS / 1000} s`)), JOB_TEST_MS);
      });
      try {
        await Promise.race([fn(), timeout]);
      } catch (e) {
        const diagnostics = await lab('logs').catch((l: Error) => `scripts/lava-lab logs failed: ${l.message}`);
        (e as Error).message += `\n\nLAVA jobs of this test: ${jobsOfTest.join(', ') || 'none'}\n${diagnostics}`;
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
    JOB_TEST_MS + 60_000,
  );
}

afterEach(async () => {
  for (const id of jobsOfTest) {
    const job = await api.job(id).catch(() => undefined);
    if (job && job.state !== 'Finished') await api.cancel(id).catch(() => undefined);
  }
  jobsOfTest = [];
});

describe('LAVA lab adapter against a real LAVA server', () => {
  it('the default job templates render to jobs LAVA accepts (x86_64 with and without a ramdisk, arm64 with a dtb)', async () => {
    const urls = { kernel: 'http://127.0.0.1:9/k', ramdisk: 'http://127.0.0.1:9/r', dtb: 'http://127.0.0.1:9/d' };
    const arm = platform({ name: 'qemu-arm64', arch: 'arm64' });
    for (const job of [
      await renderLavaJob(request(platform()), urls),
      await renderLavaJob(request(platform()), { kernel: urls.kernel }),
      await renderLavaJob(request(arm, { arch: 'arm64' }), urls),
    ])
      expect(await api.validate(job)).toBeNull();
    expect(await api.validate('device_type: qemu\njob_name: x\n')).toMatch(/^Job invalid/);
  });

  jobIt('a kernel that boots passes, and the serial console is the stored boot log', async () => {
    const ctx = await context();
    const req = request(platform());
    const result = await adapter.boot(req, ctx);
    expect(result).toMatchObject({
      status: 'pass',
      platform: 'qemu-x86_64',
      lab: 'lava',
      message: 'BOOTFARM: boot ok',
    });
    expect(result.log?.key).toBe(bootLogKey(req.bootKey));
    const log = (await store.get(result.log!.key)).toString('utf8');
    expect(log).toMatch(/Linux version 6\.1\.\d+.*Debian/);
    expect(log).toContain('Command line: console=ttyS0,115200');
    expect(log).toContain('BOOTFARM-TEST: smoke pass');
    expect(log).toContain('BOOTFARM: boot ok');
    expect(log).not.toContain('"lvl"'); // console lines only, not LAVA's own log
    const lavaLog = (await store.get(result.log!.key.replace(/console\.log$/, 'lava-job.yaml'))).toString('utf8');
    expect(lavaLog).toContain('"lvl": "target"');
    expect(lavaLog).toContain('http-download');
    // LAVA recorded the test case the ramdisk printed, and the job downloaded our kernel
    const id = jobIdOf(ctx)!;
    const tests = await api.tests(id);
    expect(tests).toContainEqual(expect.objectContaining({ suite: 'boot', name: 'smoke', result: 'pass' }));
    expect(ctx.heartbeats.length).toBeGreaterThan(3);
    expect(await readdir(ctx.workDir)).toEqual([]);
  });

  jobIt('a kernel that panics fails with the panic line, though LAVA calls the job Complete', async () => {
    const ctx = await context();
    const result = await adapter.boot(request(platform({ kernelArgs: 'bootfarm.mode=panic' })), ctx);
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/Kernel panic - not syncing: Attempted to kill init!/);
    expect((await api.job(jobIdOf(ctx)!)).health).toBe('Complete');
    const log = (await store.get(result.log!.key)).toString('utf8');
    expect(log).toContain('bootfarm init: mode panic');
    expect(log).not.toContain('BOOTFARM: boot ok');
  });

  jobIt('a failed test case in a Complete job fails the boot even though the marker appeared', async () => {
    const ctx = await context();
    const result = await adapter.boot(request(platform({ kernelArgs: 'bootfarm.mode=testfail' })), ctx);
    expect(result).toMatchObject({ status: 'fail', message: 'LAVA test case failed: boot/smoke' });
    expect((await store.get(result.log!.key)).toString('utf8')).toContain('BOOTFARM: boot ok');
  });

  jobIt('cancelling the boot cancels the LAVA job', async () => {
    const abort = new AbortController();
    const ctx = await context(abort.signal);
    const boot = adapter.boot(request(platform({ kernelArgs: 'bootfarm.mode=hang' })), ctx);
    let settled = false;
    boot.catch(() => undefined).finally(() => (settled = true));
    while (!settled && !ctx.heartbeats.some((h) => h.state === 'Running')) await new Promise((r) => setTimeout(r, 100));
    abort.abort(new Error('operator cancelled the run'));
    await expect(boot).rejects.toThrow('operator cancelled the run');
    const job = await api.job(jobIdOf(ctx)!);
    expect(['Canceling', 'Finished']).toContain(job.state);
    if (job.state === 'Finished') expect(job.health).toBe('Canceled');
    expect(ctx.lines.some((l) => l.startsWith('cancelled LAVA job'))).toBe(true);
  });

  jobIt(
    'a retry after its worker died follows the LAVA job the dead attempt left running, and submits none',
    async () => {
      // the dead attempt's job, its files served by a server that outlives it as LAVA would have them downloaded already
      const req = request(platform());
      const files = await serveFiles({
        kernel: join(root, 'store', kernel.key),
        ramdisk: join(root, 'store', ramdisk!.key),
      });
      try {
        const left = await api.submit(
          await renderLavaJob(req, { kernel: files.url('kernel'), ramdisk: files.url('ramdisk') }),
        );
        jobsOfTest.push(left);
        while (!['Running', 'Finished'].includes((await api.job(left)).state))
          await new Promise((r) => setTimeout(r, 250));

        const ctx = await context();
        ctx.resumed = { lavaJob: left, state: 'Running' }; // the last heartbeat Temporal kept for the retry
        const result = await adapter.boot(req, ctx);
        expect(result).toMatchObject({ status: 'pass', message: 'BOOTFARM: boot ok' });
        expect(ctx.lines[0]).toBe(`re-attached to LAVA job ${left} of the previous attempt: ${api.jobPage(left)}`);
        expect(new Set(ctx.heartbeats.map((h) => h.lavaJob))).toEqual(new Set([left]));
        expect(ctx.lines.some((l) => l.startsWith('submitted'))).toBe(false);
        expect((await store.get(result.log!.key)).toString('utf8')).toContain('BOOTFARM: boot ok');
      } finally {
        await files.close();
      }
    },
  );

  describe('lab failures are infrastructure errors, never kernel failures', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      // an artifact server that says yes to LAVA's HEAD check and then fails the download
      server = createServer((req, res) => {
        if (req.url?.startsWith('/flaky/'))
          res.writeHead(req.method === 'HEAD' ? 200 : 403, { 'content-length': 0 }).end();
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    jobIt('a kernel URL that is not there (LAVA: Incomplete, error_type Job) is thrown as a lab error', async () => {
      const ctx = await context();
      const missing = new LavaAdapter({ ...lava, pollMs: 500, artifactsUrl: `${base}/missing` });
      const error = await missing.boot(request(platform()), ctx).catch((e: Error) => e);
      expect(error).toBeInstanceOf(LavaLabError);
      expect((error as Error).message).toMatch(/Incomplete: Job: .*Resource unavailable.*\(404\)/s);
    });

    jobIt(
      'a download that fails after the check (LAVA: error_type Infrastructure) is thrown as a lab error',
      async () => {
        const ctx = await context();
        const flaky = new LavaAdapter({ ...lava, pollMs: 500, artifactsUrl: `${base}/flaky` });
        const error = await flaky.boot(request(platform()), ctx).catch((e: Error) => e);
        expect(error).toBeInstanceOf(LavaLabError);
        expect((error as Error).message).toMatch(/Incomplete: Infrastructure: Unable to download/);
      },
    );
  });
});
