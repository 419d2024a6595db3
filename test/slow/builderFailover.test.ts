/**
 * A builder killed in the middle of a build: its heartbeats stop, Temporal
 * notices within the heartbeat timeout (a minute), and the build is retried
 * and completes on a second builder.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { createFixtureRepo, headSha } from '../../fixtures/generator';
import { createBuildActivities } from '../../activities/build/index';
import { createResultActivities } from '../../activities/pipeline/records';
import { DirStore } from '../../plumbing/store/dirStore';
import { parseConfig } from '../../plumbing/loadConfig';
import type { BuildBootInput, BuildBootResult } from '../../domain/types';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testWorker,
  uniqueId,
  type TestDatabase,
} from '../harness/services';

/** Processes whose command line or working directory is inside `dir` (a make the killed builder left behind). */
function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) ||
          readFileSync(`/proc/${pid}/environ`, 'utf8').includes(dir)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('a builder worker killed mid-build', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(() => db.drop());

  it('is noticed by its missing heartbeats and the build completes on a second builder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bf-failover-'));
    const repo = await createFixtureRepo(join(dir, 'tree'));
    const sha = await headSha(repo);
    const store = new DirStore(join(dir, 'artifacts'));
    const mirrorDir = join(dir, 'mirrors');
    const prefix = `${uniqueId('fo')}-`;
    // gcc that takes 3 s per file: the build is long enough to be killed in the middle.
    const slowBin = join(dir, 'slow-bin');
    mkdirSync(slowBin);
    writeFileSync(join(slowBin, 'gcc'), '#!/bin/sh\nsleep 3\nexec /usr/bin/gcc "$@"\n');
    chmodSync(join(slowBin, 'gcc'), 0o755);

    const builderA = join(dir, 'builder-a');
    const child = spawn(
      process.execPath,
      [
        '-r',
        'tsx/cjs',
        join(__dirname, 'support', 'slowBuilder.ts'),
        temporalAddress(),
        `${prefix}build`,
        builderA,
        mirrorDir,
        join(dir, 'artifacts'),
        slowBin,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], detached: true, cwd: join(__dirname, '..', '..') },
    );
    const { client, close } = await temporalClient();
    const taskQueue = uniqueId('failover-');
    const { worker: orchestrator, close: closeOrchestrator } = await testWorker({
      taskQueue,
      activities: createResultActivities({ sql: db.sql }),
    });
    let builderB: Worker | undefined;
    const bConnection = await NativeConnection.connect({ address: temporalAddress() });
    try {
      const config = parseConfig('buildConfigs:\n  - {name: x86_64-defconfig, arch: x86_64, defconfig: defconfig}\n')
        .buildConfigs[0];
      const input: BuildBootInput = {
        tree: 'failover',
        url: repo.url,
        sha,
        describe: 'v0.1',
        config,
        targets: [],
        taskQueuePrefix: prefix,
      };
      const run = orchestrator.runUntil(async () => {
        const handle = await client.workflow.start('buildBoot', {
          taskQueue,
          workflowId: uniqueId('build-failover-'),
          args: [input],
        });
        // Builder A is compiling once its build log has lines from make.
        const log = join(builderA, 'builds', 'failover', 'x86_64-defconfig', 'build.log');
        const deadline = Date.now() + 120_000;
        while (!(existsSync(log) && /gcc|CC /.test(readFileSync(log, 'utf8')))) {
          if (Date.now() > deadline) throw new Error('builder A never started compiling');
          await new Promise((r) => setTimeout(r, 250));
        }
        process.kill(-(child.pid as number), 'SIGKILL');
        // what the kill above already ended (the build box goes with its parent) may be gone by now
        for (const pid of processesIn(builderA)) killIfAlive(pid);
        builderB = await Worker.create({
          connection: bConnection,
          taskQueue: `${prefix}build`,
          activities: createBuildActivities({
            store,
            workDir: join(dir, 'builder-b'),
            jobs: 2,
            ccache: false,
            builderName: 'builder-b',
            git: { mirrorDir },
          }),
        });
        const result = (await builderB.runUntil(handle.result())) as BuildBootResult;
        const history = await handle.fetchHistory();
        return { result, history };
      });
      const { result, history } = await run;
      expect(result.build.status).toBe('pass');
      expect(result.build.builder).toBe('builder-b');
      const attempts = (history.events ?? [])
        .map((e) => e.activityTaskStartedEventAttributes?.attempt)
        .filter((a): a is number => typeof a === 'number');
      expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
      const [row] = await db.sql`select status, builder from builds where tree = 'failover'`;
      expect(row).toEqual({ status: 'pass', builder: 'builder-b' });
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        /* already gone */
      }
      await closeOrchestrator();
      await bConnection.close();
      await close();
    }
  }, 300_000);
});
