/**
 * bench/real-kernel: commit → boot result of real Linux (x86_64 tinyconfig
 * plus the fragment, Debian's linux-source) through Bootfarm — the buildBoot
 * workflow on a real Temporal dev server with the real builder and QEMU lab
 * workers and PostgreSQL — against the same commands run by hand (git
 * checkout, the same make invocations, the same qemu command line), cold
 * and warm; then a bisection step (warm, one commit away) against the cold
 * build, and whether the two builds of that commit gave the same kernel.
 *
 *   npx tsx bench/real-kernel.ts [--keep]
 *
 * Cold = fresh worktree, object directory and an empty ccache of its own;
 * warm = the same directories, the next commit (a one-file change). Runs are
 * sequential so they never compete with each other for the CPU; other jobs
 * on the machine still do: the load average of each phase is printed.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { archInfo } from '../domain/archs';
import { taskQueues } from '../domain/ids';
import { parseConfig } from '../plumbing/loadConfig';
import type { BuildBootInput, BuildBootResult } from '../domain/types';
import { connectDb } from '../plumbing/db/connect';
import { migrate } from '../plumbing/db/migrate';
import { DirStore } from '../plumbing/store/dirStore';
import { createBuildActivities, kbuildTimestamp } from '../activities/build/index';
import { mergeConfig } from '../activities/build/kconfig';
import { run, runOk } from '../plumbing/git/command';
import { createLabActivities } from '../activities/labs';
import { qemuArgs } from '../activities/labs/qemu';
import { orchestratorActivities } from '../workers/orchestrator';
import { bootTargets, pipelineSpecFor } from '../domain/pipelineSpec';
import { startTemporal } from '../stack/temporalServer';
import { startPostgres } from '../stack/postgres';
import { freePort } from '../stack/ports';
import {
  BOOT_MARKER,
  BUILD_CONFIG_NAMES,
  REAL_LINUX_TREE,
  ensureRamdisk,
  ensureRealLinuxTree,
  mergeConfigSlice,
  realLinuxSlice,
} from '../realLinux';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const JOBS = 2;
const log = (line: string) => process.stderr.write(`bench/real-kernel: ${line}\n`);
const seconds = (ms: number) => +(ms / 1000).toFixed(1);

/** Mean 1-minute load average while `fn` runs: how much else was running. */
async function measured<T>(label: string, fn: () => Promise<T>): Promise<{ value: T; ms: number; load: number }> {
  const samples: number[] = [];
  const sample = () => samples.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
  sample();
  const timer = setInterval(sample, 5000);
  log(`${label}…`);
  const t0 = Date.now();
  try {
    const value = await fn();
    const ms = Date.now() - t0;
    log(`${label}: ${seconds(ms)} s`);
    return { value, ms, load: +(samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(1) };
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tree = await ensureRealLinuxTree({ log });
  const ramdisk = await ensureRamdisk('x86_64', { log });
  const [a, b] = [tree.commits[1], tree.commits[2]]; // b: a one-file change on top of a
  const dir = mkdtempSync(join(tmpdir(), 'bench-real-kernel-'));
  chmodSync(dir, 0o755);
  log(`working in ${dir}`);

  const cfg = mergeConfigSlice(
    parseConfig(`dataDir: ${join(dir, 'bootfarm')}\nemail: { outbox: ${join(dir, 'outbox')} }\n`),
    realLinuxSlice({ url: tree.repo, ramdisks: { x86_64: ramdisk, arm64: ramdisk }, lab: 'qemu' }),
  );
  const config = cfg.buildConfigs.find((c) => c.name === BUILD_CONFIG_NAMES.x86_64)!;
  const spec = pipelineSpecFor(cfg, REAL_LINUX_TREE, 'master');
  const target = bootTargets(spec, config).find((t) => t.platform.arch === 'x86_64')!;
  const arch = archInfo('x86_64');

  // ---- by hand: the builder's commands, run directly --------------------------------------
  const raw = { src: join(dir, 'raw', 'src'), obj: join(dir, 'raw', 'obj'), ccache: join(dir, 'raw', 'ccache') };
  const rawEnv = (epoch: number): NodeJS.ProcessEnv => ({
    ...process.env,
    LC_ALL: 'C',
    KBUILD_BUILD_TIMESTAMP: kbuildTimestamp(epoch),
    KBUILD_BUILD_USER: 'bootfarm',
    KBUILD_BUILD_HOST: 'bootfarm',
    KBUILD_BUILD_VERSION: '1',
    CCACHE_DIR: raw.ccache,
    CCACHE_BASEDIR: join(dir, 'raw'),
  });
  const make = async (env: NodeJS.ProcessEnv, args: string[]) => {
    const r = await run(
      'make',
      [`ARCH=${arch.kernelArch}`, 'CROSS_COMPILE=', `O=${raw.obj}`, 'CC=ccache gcc-12', ...args],
      {
        cwd: raw.src,
        env,
        captureLimit: 16 * 1024,
      },
    );
    if (r.code !== 0) throw new Error(`make ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  };
  async function byHand(
    sha: string,
  ): Promise<{ checkoutMs: number; buildMs: number; bootMs: number; booted: boolean }> {
    const t0 = Date.now();
    if (!existsSync(raw.src)) await runOk('git', ['clone', '--quiet', '--shared', '--no-checkout', tree.repo, raw.src]);
    await runOk('git', ['-C', raw.src, 'checkout', '--quiet', '--force', '--detach', sha]);
    const epoch = Number((await runOk('git', ['-C', raw.src, 'show', '-s', '--format=%ct', sha])).stdout.trim());
    const t1 = Date.now();
    const env = rawEnv(epoch);
    await make(env, [config.defconfig]);
    const dotConfig = join(raw.obj, '.config');
    await writeFile(dotConfig, mergeConfig(await readFile(dotConfig, 'utf8'), config.fragments));
    await make(env, ['olddefconfig']);
    await make(env, [`-j${JOBS}`, arch.imageTarget]);
    const t2 = Date.now();
    const kernel = join(raw.obj, arch.imagePath);
    const vm = await run(arch.qemu.binary, qemuArgs(arch, target.platform, { kernel, ramdisk }), {
      timeoutMs: 120_000,
    });
    const t3 = Date.now();
    return { checkoutMs: t1 - t0, buildMs: t2 - t1, bootMs: t3 - t2, booted: vm.stdout.includes(BOOT_MARKER) };
  }

  // ---- through Bootfarm ----------------------------------------------------------------------
  const [tPort, pPort] = [await freePort(), await freePort()];
  const [server, pg] = await Promise.all([
    startTemporal({ port: tPort, logFile: join(dir, 'temporal.log'), headless: true }),
    startPostgres({ dataDir: join(dir, 'pg'), port: pPort, logFile: join(dir, 'pg.log'), durable: false }),
  ]);
  const sql = await connectDb(pg.url);
  await migrate(sql);
  const store = new DirStore(join(dir, 'artifacts'));
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConn = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConn });
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const workers = await Promise.all([
    Worker.create({
      connection,
      taskQueue: 'bootfarm',
      workflowBundle: bundle,
      activities: orchestratorActivities({ config: cfg, connection, namespace: 'default', store, sql, client }),
    }),
    Worker.create({
      connection,
      taskQueue: 'build',
      activities: createBuildActivities({
        store,
        workDir: join(dir, 'bootfarm', 'builder'),
        jobs: JOBS,
        builderName: 'bench',
        git: { mirrorDir: join(dir, 'bootfarm', 'builder', 'mirrors') },
        env: { CCACHE_DIR: join(dir, 'bootfarm', 'ccache') },
      }),
      maxConcurrentActivityTaskExecutions: 1,
    }),
    ...cfg.labs[0].platforms.map((platform) =>
      Worker.create({
        connection,
        taskQueue: taskQueues.labPlatform(cfg.labs[0].name, platform.name),
        activities: createLabActivities({ lab: cfg.labs[0], store, workDir: join(dir, 'lab') }),
        maxConcurrentActivityTaskExecutions: platform.capacity,
      }),
    ),
  ]);
  const running = workers.map((w) => w.run());
  await new Promise((r) => setTimeout(r, 1500)); // lab health reads the queue's pollers: one poll first

  let runs = 0;
  async function throughBootfarm(sha: string): Promise<BuildBootResult> {
    const input: BuildBootInput = {
      tree: REAL_LINUX_TREE,
      branch: 'master',
      url: tree.repo,
      sha,
      describe: sha.slice(0, 12),
      config,
      targets: [target],
    };
    const result: BuildBootResult = await client.workflow.execute('buildBoot', {
      taskQueue: 'bootfarm',
      workflowId: `bench:${sha.slice(0, 12)}:${++runs}`,
      args: [input],
    });
    if (result.build.status !== 'pass' || result.boots[0]?.status !== 'pass')
      throw new Error(
        `Bootfarm: build ${result.build.status}, boot ${result.boots[0]?.status}: ${result.build.message ?? result.boots[0]?.message}`,
      );
    return result;
  }
  const kernelDigest = async (r: BuildBootResult) =>
    createHash('sha256')
      .update(await store.get(r.build.artifacts.kernel.key))
      .digest('hex');

  try {
    const rawCold = await measured('by hand, cold', () => byHand(a.sha));
    const bfCold = await measured('Bootfarm, cold', () => throughBootfarm(a.sha));
    const coldKernel = await kernelDigest(bfCold.value);
    const rawWarm = await measured('by hand, warm (next commit)', () => byHand(b.sha));
    const bfWarm = await measured('Bootfarm, warm (next commit)', () => throughBootfarm(b.sha));
    const step = await measured('Bootfarm, bisection step (back one commit)', () => throughBootfarm(a.sha));
    const stepKernel = await kernelDigest(step.value);

    const overhead = (bf: number, rw: number) => +(((bf - rw) / rw) * 100).toFixed(1);
    const figures = {
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        // the QEMU lab passes no -accel: TCG, whether or not /dev/kvm exists
        qemuAccel: 'tcg',
        jobs: JOBS,
      },
      commits: { cold: `${a.sha.slice(0, 12)} ${a.subject}`, warm: `${b.sha.slice(0, 12)} ${b.subject}` },
      cold: {
        byHandSeconds: seconds(rawCold.ms),
        byHand: {
          checkout: seconds(rawCold.value.checkoutMs),
          build: seconds(rawCold.value.buildMs),
          boot: seconds(rawCold.value.bootMs),
        },
        bootfarmSeconds: seconds(bfCold.ms),
        bootfarm: { build: seconds(bfCold.value.build.durationMs), boot: seconds(bfCold.value.boots[0].durationMs) },
        overheadPercent: overhead(bfCold.ms, rawCold.ms),
        /** workflow wall time outside the build and boot activities: Temporal, PostgreSQL, store */
        orchestrationSeconds: seconds(bfCold.ms - bfCold.value.build.durationMs - bfCold.value.boots[0].durationMs),
        loadAverage: { byHand: rawCold.load, bootfarm: bfCold.load },
      },
      warm: {
        byHandSeconds: seconds(rawWarm.ms),
        byHand: {
          checkout: seconds(rawWarm.value.checkoutMs),
          build: seconds(rawWarm.value.buildMs),
          boot: seconds(rawWarm.value.bootMs),
        },
        bootfarmSeconds: seconds(bfWarm.ms),
        bootfarm: { build: seconds(bfWarm.value.build.durationMs), boot: seconds(bfWarm.value.boots[0].durationMs) },
        overheadPercent: overhead(bfWarm.ms, rawWarm.ms),
        /** workflow wall time outside the build and boot activities: Temporal, PostgreSQL, store */
        orchestrationSeconds: seconds(bfWarm.ms - bfWarm.value.build.durationMs - bfWarm.value.boots[0].durationMs),
        loadAverage: { byHand: rawWarm.load, bootfarm: bfWarm.load },
      },
      bisectionStep: {
        buildSeconds: seconds(step.value.build.durationMs),
        coldBuildSeconds: seconds(bfCold.value.build.durationMs),
        percentOfCold: +((step.value.build.durationMs / bfCold.value.build.durationMs) * 100).toFixed(1),
        sameKernelAsCold: stepKernel === coldKernel,
        loadAverage: step.load,
      },
      bootedByHand: rawCold.value.booted && rawWarm.value.booted,
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await sql.end();
    await clientConn.close();
    await connection.close();
    await Promise.all([server.stop(), pg.stop()]);
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench/real-kernel: ${(e as Error).stack}\n`);
  process.exit(1);
});
