/**
 * A populated Bootfarm: two revisions of demo/master recorded through the
 * pipeline's own recording activities (results, regressions, bisection
 * records), logs in a real artifact store, a real .eml in the outbox.
 * Revision A passes everywhere; revision B panics x86_64-defconfig on
 * qemu-x86_64 in both labs (a boot regression, bisected) and breaks the
 * x86_64-tinyconfig build (a build regression).
 */
import type { LabWorkerControl, LabWorkerStatus } from '../../domain/labWorker';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Sql } from 'postgres';
import { parseConfig } from '../../plumbing/loadConfig';
import { workflowIds } from '../../domain/ids';
import { hashLabToken } from '../../plumbing/labToken';
import type { BuildConfig } from '../../domain/config';
import type { BootResult, BuildResult, RevisionInfo } from '../../domain/types';
import type { BisectStep, BisectVerdict } from '../../domain/bisect';
import { createConfigActivities } from '../../activities/pipeline/configRecords';
import { createResultActivities } from '../../activities/pipeline/records';
import { createRegressionActivities } from '../../activities/report/regressions';
import { createBisectRecords } from '../../activities/bisect/records';
import type { ArtifactStore } from '../../plumbing/store/types';

export const SHA_A = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
export const SHA_B = 'b'.repeat(8) + '0123456789abcdef0123456789abcdef';
export const FARM_TOKEN = 'bfl_farm-token-for-tests';
export const LOCAL_TOKEN = 'bfl_local-token-for-tests';
export const PANIC_LINE = 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)';
export const EVIL_SUBJECT = 'mm: fix <script>alert("x")</script> & friends';

export const config = parseConfig(`
trees:
  - name: demo
    url: /srv/git/demo.git
    branches: [master]
    buildConfigs: [x86_64-defconfig, x86_64-tinyconfig, arm64-defconfig]
  - name: mainline
    url: https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git
    branches: [master]
    buildConfigs: [x86_64-defconfig]
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
  - { name: x86_64-tinyconfig, arch: x86_64, defconfig: tinyconfig }
  - { name: arm64-defconfig, arch: arm64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, soc: qemu }
  - { name: qemu-arm64-virt, arch: arm64, soc: qemu-virt }
  - { name: rpi4, arch: arm64, soc: bcm2711, dtb: bcm2711-rpi-4-b.dtb, bootMethod: lava }
labs:
  - name: local
    adapter: qemu
    platforms: [{ name: qemu-x86_64, capacity: 2 }, qemu-arm64-virt]
  - name: farm
    adapter: api
    platforms: [qemu-x86_64]
  - name: pi-lab
    adapter: lava
    platforms: [rpi4]
    lava: { url: 'http://127.0.0.1:9/', token: x }
`);

const buildConfig = (name: string): BuildConfig => {
  const c = config.buildConfigs.find((b) => b.name === name);
  if (!c) throw new Error(name);
  return c;
};

const CONSOLE_PASS = 'Linux version 6.1.0-demo\nFreeing unused kernel memory\nBOOTFARM: boot ok\n';
const CONSOLE_PANIC = `Linux version 6.1.0-demo\nWARNING: CPU: 0 PID: 1 at init/main.c:1 start_kernel+0x1/0x2\n${PANIC_LINE}\nCPU: 0 PID: 1 Comm: swapper Not tainted\n`;
const BUILD_LOG_WARN =
  "  CC      init/main.o\ninit/main.c:12:5: warning: unused variable 'x' [-Wunused-variable]\n  LD      vmlinux\n";
const BUILD_LOG_ERROR =
  "  CC      init/main.o\ninit/main.c:40:1: error: expected ';' before '}' token\nmake[1]: *** [scripts/Makefile.build:250: init/main.o] Error 1\n";

export interface Populated {
  revA: number;
  revB: number;
  bisectionId: number;
  failingBootIds: number[];
  bootIds: number[];
  buildIds: Record<string, number>;
  outboxName: string;
  panicLogKey: string;
}

function revision(sha: string, subject: string, describe: string): RevisionInfo {
  return {
    tree: 'demo',
    branch: 'master',
    url: '/srv/git/demo.git',
    sha,
    describe,
    subject,
    author: 'Jane Hacker',
    authorEmail: 'jane@example.org',
    committedAt: '2024-05-01T10:00:00Z',
  };
}

export async function populate(sql: Sql, store: ArtifactStore, outboxDir: string): Promise<Populated> {
  await createConfigActivities({ sql }).syncConfig(config);
  await sql`update labs set token_hash = ${hashLabToken(FARM_TOKEN)} where name = 'farm'`;
  await sql`update labs set token_hash = ${hashLabToken(LOCAL_TOKEN)}, health = 'online', last_poll_at = now() where name = 'local'`;
  const results = createResultActivities({ sql });
  const regressions = createRegressionActivities({ sql });
  const out: Populated = {
    revA: 0,
    revB: 0,
    bisectionId: 0,
    failingBootIds: [],
    bootIds: [],
    buildIds: {},
    outboxName: '',
    panicLogKey: '',
  };

  for (const [sha, subject, describe, bad] of [
    [SHA_A, 'init: tidy up start_kernel', 'v6.1-rc1', false],
    [SHA_B, EVIL_SUBJECT, 'v6.1-rc1-1-gbbbbbbbb0123', true],
  ] as const) {
    const rev = revision(sha, subject, describe);
    const revWorkflow = workflowIds.revision('demo', 'master', sha);
    const revId = await results.recordRevisionStart({ ...rev, workflowId: revWorkflow });
    if (bad) out.revB = revId;
    else out.revA = revId;
    for (const name of ['x86_64-defconfig', 'x86_64-tinyconfig', 'arm64-defconfig']) {
      const cfg = buildConfig(name);
      const prefix = `builds/demo/${sha.slice(0, 12)}/${name}`;
      const broken = bad && name === 'x86_64-tinyconfig';
      const log = await store.put(`${prefix}/build.log`, broken ? BUILD_LOG_ERROR : BUILD_LOG_WARN);
      const kernel = await store.put(`${prefix}/bzImage`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
      const kconfig = await store.put(`${prefix}/config`, 'CONFIG_PRINTK=y\n');
      const result: BuildResult = {
        status: broken ? 'fail' : 'pass',
        warnings: broken ? 0 : 1,
        errors: broken ? 1 : 0,
        durationMs: 4200,
        artifacts: broken ? { log } : { log, kernel, config: kconfig },
        errorLines: broken ? ["init/main.c:40:1: error: expected ';' before '}' token"] : [],
        builder: 'builder-1',
      };
      const workflowId = workflowIds.buildBoot('demo', sha, name);
      const buildId = await results.recordBuild({ tree: 'demo', sha, config: cfg, result, workflowId });
      if (bad) out.buildIds[name] = buildId;
      if (broken) continue;
      const targets = name.startsWith('arm64')
        ? [['qemu-arm64-virt', 'local']]
        : [
            ['qemu-x86_64', 'local'],
            ['qemu-x86_64', 'farm'],
          ];
      for (const [platform, lab] of targets) {
        const panics = bad && name === 'x86_64-defconfig';
        const logRef = await store.put(
          `boots/demo/${sha.slice(0, 12)}/${name}/${platform}-${lab}.log`,
          panics ? CONSOLE_PANIC : CONSOLE_PASS,
        );
        const boot: BootResult = {
          status: panics ? 'fail' : 'pass',
          platform,
          lab,
          durationMs: 1800,
          log: logRef,
          message: panics ? PANIC_LINE : 'BOOTFARM: boot ok',
          attempts: 1,
        };
        const bootId = await results.recordBoot({
          buildId,
          tree: 'demo',
          sha,
          config: name,
          arch: cfg.arch,
          run: 0,
          result: boot,
          workflowId,
          fromLab: true,
        });
        out.bootIds.push(bootId);
        if (panics) {
          out.failingBootIds.push(bootId);
          out.panicLogKey = logRef.key;
        }
      }
    }
    await results.recordRevisionSummary({
      tree: 'demo',
      branch: 'master',
      sha,
      workflowId: revWorkflow,
      result: bad ? 'fail' : 'pass',
      counts: {
        builds: {
          total: 3,
          pass: bad ? 2 : 3,
          fail: bad ? 1 : 0,
          infraError: 0,
          warnings: bad ? 2 : 3,
          errors: bad ? 1 : 0,
        },
        boots: { total: bad ? 3 : 5, pass: bad ? 1 : 5, fail: bad ? 2 : 0, infraError: 0, offline: 0, skip: 0 },
      },
    });
    await regressions.recordRegressions({ tree: 'demo', branch: 'master', sha });
  }

  const bisect = createBisectRecords({ sql });
  const bisectWorkflow = workflowIds.bisect('demo', SHA_B, 'x86_64-defconfig', 'qemu-x86_64');
  out.bisectionId = await bisect.recordBisectionStart({
    workflowId: bisectWorkflow,
    tree: 'demo',
    branch: 'master',
    good: SHA_A,
    bad: SHA_B,
    config: 'x86_64-defconfig',
    platform: 'qemu-x86_64',
    lab: 'local',
  });
  const steps: BisectStep[] = [
    {
      sha: SHA_A,
      subject: 'init: tidy up start_kernel',
      role: 'good-endpoint',
      round: 0,
      verdict: 'good',
      build: 'pass',
      boot: 'pass',
      attempts: 1,
      workflowId: workflowIds.bisectStep(bisectWorkflow, SHA_A),
      message: 'BOOTFARM: boot ok',
    },
    {
      sha: SHA_B,
      subject: EVIL_SUBJECT,
      role: 'bad-endpoint',
      round: 0,
      verdict: 'bad',
      build: 'pass',
      boot: 'fail',
      attempts: 1,
      workflowId: workflowIds.bisectStep(bisectWorkflow, SHA_B),
      logKey: out.panicLogKey,
      message: PANIC_LINE,
    },
  ];
  const verdict: BisectVerdict = {
    status: 'found',
    summary: `first bad commit ${SHA_B.slice(0, 12)} ("${EVIL_SUBJECT}")`,
    culprit: { sha: SHA_B, subject: EVIL_SUBJECT },
    confirmed: true,
    checks: [
      { name: 'endpoints', outcome: 'passed', detail: 'good boots, bad fails' },
      { name: 'verify', outcome: 'passed', detail: 'failed 3 times of 3' },
      { name: 'revert', outcome: 'passed', detail: 'booted 3 times of 3 with the culprit reverted' },
    ],
  };
  await bisect.recordBisectionEnd({
    workflowId: bisectWorkflow,
    verdict,
    steps,
    bisectLog: `git bisect start\n# bad: [${SHA_B}] ${EVIL_SUBJECT}\ngit bisect bad ${SHA_B}\n# good: [${SHA_A}]\ngit bisect good ${SHA_A}\n# first bad commit: [${SHA_B}]\n`,
  });

  await sql`insert into reports (message_id, kind, tree, branch, sha, subject, recipients, status, sent_at)
            values ('<rev.demo.master.bbbbbbbb0123.boot@bootfarm>', 'boot', 'demo', 'master', ${SHA_B},
                    'demo/master boot: 3 boots: 2 failed, 1 passed (v6.1-rc1-1-gbbbbbbbb0123)', ${sql.json(['list@example.org'])}, 'sent', now())`;

  const mail = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }).sendMail({
    from: 'Bootfarm <bootfarm@localhost>',
    to: 'list@example.org',
    subject: 'demo/master boot: 3 boots: 2 failed, 1 passed — régression (v6.1-rc1-1-gbbbbbbbb0123)',
    messageId: '<rev.demo.master.bbbbbbbb0123.boot@bootfarm>',
    text: `demo/master boot: 2 failed\n\nRegressions (new):\n  x86_64-defconfig on qemu-x86_64: ${PANIC_LINE}\n\nÉtat: <b>not html</b>\n`,
    html: '<p>the HTML alternative</p>',
  });
  out.outboxName = 'rev-demo-master-bbbbbbbb0123-boot.eml';
  await mkdir(outboxDir, { recursive: true });
  await writeFile(join(outboxDir, out.outboxName), mail.message as Buffer);
  return out;
}

/** A switch for one in-process lab worker, as the embedded stack injects it (the fuzzer only flips it). */
export function labSwitch(lab: string): LabWorkerControl {
  let running = true;
  const status = (): LabWorkerStatus => ({
    lab,
    running,
    state: running ? 'running' : 'stopped',
    boots: 0,
    since: new Date().toISOString(),
  });
  return {
    status: (name) => (name === lab ? status() : undefined),
    async stop() {
      running = false;
      return status();
    },
    async start() {
      running = true;
      return status();
    },
  };
}
