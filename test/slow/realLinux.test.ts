/**
 * Real Linux end to end on the run's dev server: Debian's linux-source as a
 * git tree with a generated history, built for x86_64 and arm64 (tinyconfig
 * plus fragments) by the real builder and booted on the real QEMU lab with
 * busybox ramdisks; then the commit that injects a panic into early init
 * regresses x86_64, and the pipeline's bisection names it, verifies it,
 * reverts it and mails its author.
 *
 * The tree, the ramdisks and the builder's worktrees, object directories,
 * mirror and ccache live in ~/.cache/bootfarm/real-linux ($BOOTFARM_CACHE_DIR),
 * so only a fresh machine pays for the import and the cold builds (see
 * BENCHMARKS.md).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createBuildActivities } from '../../activities/build/index';
import { createLabActivities } from '../../activities/labs';
import { DirStore } from '../../plumbing/store/dirStore';
import { parseConfig } from '../../plumbing/loadConfig';
import { workflowIds } from '../../domain/ids';
import type { BootfarmConfig } from '../../domain/config';
import type { BisectResult } from '../../domain/bisect';
import type { RevisionReport } from '../../domain/revisionReport';
import { boardQueue, pipelineSpecFor, revisionWorkflowId } from '../../domain/pipelineSpec';
import { orchestratorActivities } from '../../workers/orchestrator';
import {
  BUILD_CONFIG_NAMES,
  CULPRIT_AUTHOR,
  CULPRIT_REVIEWER,
  INJECTED_PANIC,
  PLATFORM_NAMES,
  REAL_LINUX_ARCHES,
  REAL_LINUX_TREE,
  cachePaths,
  ensureRamdisk,
  ensureRealLinuxTree,
  mergeConfigSlice,
  realLinuxSlice,
  type RealLinuxArch,
  type RealLinuxTree,
} from '../../realLinux';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  uniqueId,
  type TestDatabase,
} from '../harness/services';
import { withWorkers, type WorkerSpec } from '../workflows/workers';
import { eventually } from '../workflows/pipelineFixtures';

const MINUTE = 60_000;
const LIST = 'linux-ci@lists.bootfarm.test';
const log = (line: string) => process.stderr.write(`real-linux: ${line}\n`);

let tree: RealLinuxTree;
let cfg: BootfarmConfig;
let db: TestDatabase;
let root: string;
let store: DirStore;
let temporal: { client: Client; close(): Promise<void> };
let connection: NativeConnection;
const prefix = `${uniqueId('rl')}-`;

beforeAll(async () => {
  // a fresh machine imports the kernel source here (minutes); later runs find it cached
  tree = await ensureRealLinuxTree({ log });
  const ramdisks = {} as Record<RealLinuxArch, string>;
  for (const arch of REAL_LINUX_ARCHES) ramdisks[arch] = await ensureRamdisk(arch, { log });
  root = await mkdtemp(join(testDir(), 'real-linux-'));
  store = new DirStore(join(root, 'artifacts'));
  // The orchestrator's mirrors (dataDir/mirrors) are the builder's, as in `bootfarm up`: one copy of
  // Linux's history, warm in the cache between runs.
  const base = parseConfig(
    `dataDir: ${cachePaths().builder}\nemail: { outbox: ${join(root, 'outbox')} }\nartifacts: { kind: dir, path: ${join(root, 'artifacts')} }\n`,
  );
  cfg = mergeConfigSlice(
    base,
    realLinuxSlice({ url: tree.repo, ramdisks, lab: 'qemu', reportTo: [LIST], reportDelay: '2s' }),
  );
  [db, temporal, connection] = await Promise.all([
    freshDatabase(),
    temporalClient(),
    NativeConnection.connect({ address: temporalAddress() }),
  ]);
}, 30 * MINUTE);

afterAll(async () => {
  await Promise.all([db?.drop(), temporal?.close(), connection?.close()]);
  if (root) await rm(root, { recursive: true, force: true });
});

function workers(): WorkerSpec[] {
  const lab = cfg.labs.find((l) => l.name === 'qemu')!;
  return [
    {
      taskQueue: `${prefix}bootfarm`,
      workflows: true,
      activities: orchestratorActivities({
        config: cfg,
        connection,
        namespace: 'default',
        store,
        sql: db.sql,
        client: temporal.client,
      }),
    },
    {
      taskQueue: `${prefix}build`,
      activities: createBuildActivities({
        store,
        workDir: cachePaths().builder,
        jobs: 2,
        builderName: 'real-linux-test',
        git: { mirrorDir: join(cfg.dataDir, 'mirrors') },
        env: { CCACHE_DIR: process.env.CCACHE_DIR ?? cachePaths().ccache },
      }),
      // one build at a time: make -j2 already uses both cores
      maxConcurrentActivityTaskExecutions: 1,
    },
    ...lab.platforms.map((platform) => ({
      taskQueue: boardQueue({ taskQueuePrefix: prefix }, lab.name, platform.name),
      activities: createLabActivities({ lab, store, workDir: join(root, 'lab') }),
      maxConcurrentActivityTaskExecutions: platform.capacity,
    })),
  ];
}

function runRevision(sha: string): Promise<RevisionReport> {
  const input = { ...pipelineSpecFor(cfg, REAL_LINUX_TREE, 'master', { taskQueuePrefix: prefix }), sha };
  return temporal.client.workflow.execute('revisionPipeline', {
    taskQueue: `${prefix}bootfarm`,
    workflowId: revisionWorkflowId(input),
    args: [input],
  });
}

const text = async (key: string) => (await store.get(key)).toString('utf8');
const digest = async (key: string) =>
  createHash('sha256')
    .update(await store.get(key))
    .digest('hex');
const kernelKey = (sha: string, arch: RealLinuxArch) => {
  const image = arch === 'x86_64' ? 'bzImage' : 'Image';
  return `builds/${REAL_LINUX_TREE}/${sha}/${BUILD_CONFIG_NAMES[arch]}/${image}`;
};

/** the good head's x86_64 kernel as the first revision built it */
let goodKernel: string;

describe('real Linux (linux-source 6.1, tinyconfig) on the QEMU lab', () => {
  it(
    'builds a revision for x86_64 and arm64, boots both into the busybox ramdisk, and records it',
    async () => {
      const report = await withWorkers('dev-server', workers(), () => runRevision(tree.good));

      expect(report.result).toBe('pass');
      expect(report.describe).toMatch(new RegExp(`^v${tree.version.replace(/\./g, '\\.')}-3-g`));
      expect(report.builds.map((b) => `${b.config}:${b.status}`).sort()).toEqual([
        `${BUILD_CONFIG_NAMES.arm64}:pass`,
        `${BUILD_CONFIG_NAMES.x86_64}:pass`,
      ]);
      expect(report.boots.map((b) => `${b.platform}:${b.status}`).sort()).toEqual([
        `${PLATFORM_NAMES.arm64}:pass`,
        `${PLATFORM_NAMES.x86_64}:pass`,
      ]);
      const booted = Object.fromEntries(report.boots.map((b) => [b.platform, b]));
      const x86Console = await text(booted[PLATFORM_NAMES.x86_64].logKey!);
      const armConsole = await text(booted[PLATFORM_NAMES.arm64].logKey!);
      expect(x86Console).toMatch(/Linux version 6\.1\.\d+\+ \(bootfarm@bootfarm\)/);
      expect(x86Console).toMatch(/BOOTFARM: boot ok \(x86_64, Linux 6\.1\.\d+/);
      expect(armConsole).toMatch(/Machine model: linux,dummy-virt/);
      expect(armConsole).toMatch(/BOOTFARM: boot ok \(aarch64, Linux 6\.1\.\d+/);

      // recorded: both builds with their artifacts, both boots
      const builds =
        await db.sql`select config, status, artifacts from builds where tree = ${REAL_LINUX_TREE} and sha = ${tree.good}`;
      expect(builds.map((b) => `${b.config}:${b.status}`).sort()).toEqual([
        `${BUILD_CONFIG_NAMES.arm64}:pass`,
        `${BUILD_CONFIG_NAMES.x86_64}:pass`,
      ]);
      const x86Build = builds.find((b) => b.config === BUILD_CONFIG_NAMES.x86_64)!;
      expect(x86Build.artifacts.kernel.key).toBe(kernelKey(tree.good, 'x86_64'));
      const kconfig = await text(x86Build.artifacts.config.key);
      for (const line of ['CONFIG_64BIT=y', 'CONFIG_SERIAL_8250_CONSOLE=y', 'CONFIG_BLK_DEV_INITRD=y'])
        expect(kconfig).toContain(line);
      const [{ n }] =
        await db.sql`select count(*)::int as n from boots where tree = ${REAL_LINUX_TREE} and sha = ${tree.good} and status = 'pass'`;
      expect(n).toBe(2);
      const [rev] = await db.sql`select result from revisions where tree = ${REAL_LINUX_TREE} and sha = ${tree.good}`;
      expect(rev.result).toBe('pass');
      goodKernel = await digest(kernelKey(tree.good, 'x86_64'));
    },
    60 * MINUTE,
  );

  it(
    'bisects the x86_64 boot regression to the commit that injects the panic, verifies and reverts it, and mails its author',
    async () => {
      const bisectId = workflowIds.bisect(REAL_LINUX_TREE, tree.bad, BUILD_CONFIG_NAMES.x86_64, PLATFORM_NAMES.x86_64);
      const { report, bisection } = await withWorkers('dev-server', workers(), async () => {
        const report = await runRevision(tree.bad);
        // the pipeline starts the bisection of its new boot regression on its own
        await eventually(
          'the bisection to start',
          () =>
            temporal.client.workflow
              .getHandle(bisectId)
              .describe()
              .catch(() => undefined),
          2 * MINUTE,
        );
        const bisection: BisectResult = await temporal.client.workflow.getHandle(bisectId).result();
        return { report, bisection };
      });

      // the regression: x86_64 panics, arm64 (not affected by the culprit) still boots
      expect(report.result).toBe('fail');
      const boots = Object.fromEntries(report.boots.filter((b) => b.run === 0).map((b) => [b.platform, b]));
      expect(boots[PLATFORM_NAMES.arm64].status).toBe('pass');
      expect(boots[PLATFORM_NAMES.x86_64]).toMatchObject({
        status: 'fail',
        message: expect.stringContaining(INJECTED_PANIC),
      });
      expect(await text(boots[PLATFORM_NAMES.x86_64].logKey!)).toContain(
        `Kernel panic - not syncing: ${INJECTED_PANIC}`,
      );
      const [regression] =
        await db.sql`select last_good_sha, first_bad_sha from regressions where tree = ${REAL_LINUX_TREE} and kind = 'boot' and platform = ${PLATFORM_NAMES.x86_64}`;
      expect(regression).toEqual({ last_good_sha: tree.good, first_bad_sha: tree.bad });

      // the bisection: exactly the culprit, confirmed by its checks
      expect(bisection.verdict).toMatchObject({
        status: 'found',
        confirmed: true,
        culprit: { sha: tree.culprit, subject: 'init: check the early boot state before running init' },
      });
      expect(bisection.verdict.checks.map((c) => `${c.name}:${c.outcome}`)).toEqual([
        'endpoints:passed',
        'verify:passed',
        'revert:passed',
      ]);
      expect(bisection.bisectLog).toContain(`# first bad commit: [${tree.culprit}]`);
      const [row] = await db.sql`select status, culprit_sha from bisections where workflow_id = ${bisectId}`;
      expect(row).toEqual({ status: 'found', culprit_sha: tree.culprit });

      const built =
        await db.sql`select sha, config, duration_ms from builds where tree = ${REAL_LINUX_TREE} order by finished_at`;
      log(
        `builds (last of each commit): ${built.map((b) => `${b.sha.slice(0, 7)} ${b.config} ${Math.round(b.duration_ms / 1000)}s`).join(', ')}`,
      );

      // each step rebuilt what its commit changed, not the kernel
      for (const sha of [tree.good, tree.culprit, tree.bad]) {
        const buildLog = await text(`builds/${REAL_LINUX_TREE}/${sha}/${BUILD_CONFIG_NAMES.x86_64}/build.log`);
        expect((buildLog.match(/^ {2}CC {6}\S+\.o$/gm) ?? []).length).toBeLessThan(12);
      }

      // the good endpoint was built again in a build directory that had moved on: the same bytes
      expect(await digest(kernelKey(tree.good, 'x86_64'))).toBe(goodKernel);

      // the report, to the culprit's author and reviewer, the list in copy
      const outbox = join(root, 'outbox');
      const mails = await Promise.all(
        (await readdir(outbox)).map(async (f) => simpleParser(await readFile(join(outbox, f)))),
      );
      const mail = mails.find((m) => m.messageId === bisection.reportMessageId);
      if (!mail)
        throw new Error(
          `no mail ${bisection.reportMessageId} in the outbox (${mails.map((m) => m.subject).join('; ')})`,
        );
      const addresses = (a: ParsedMail['to']) =>
        (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
      expect(addresses(mail.to)).toEqual(expect.arrayContaining([CULPRIT_AUTHOR.email, CULPRIT_REVIEWER.email]));
      expect(addresses(mail.cc)).toContain(LIST);
      expect(mail.text).toContain(tree.culprit.slice(0, 12));
      expect(mail.text).toContain(`Kernel panic - not syncing: ${INJECTED_PANIC}`);
    },
    60 * MINUTE,
  );
});
