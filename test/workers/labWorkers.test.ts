/**
 * A lab's workers take a boot only when a board of its platform is free:
 * one worker per platform, each running at most as many boots as the lab has
 * boards of it, so Temporal keeps the rest queued. Real Temporal, a real
 * shell lab program that notes when each boot starts and ends.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { parseConfig } from '../../plumbing/loadConfig';
import { DirStore } from '../../plumbing/store/dirStore';
import { taskQueues } from '../../domain/ids';
import type { BootRequest, BootResult } from '../../domain/types';
import { createLabWorkers } from '../../workers/lab';
import { temporalAddress, temporalClient, testDir, uniqueId } from '../harness/services';

/** slow boards take 2 s a boot, fast ones 0.2 s */
const BOARD = (marks: string) => `#!/bin/sh
echo "start $BOOTFARM_PLATFORM $(date +%s%3N)" >> '${marks}'
case "$BOOTFARM_PLATFORM" in slow) sleep 2 ;; *) sleep 0.2 ;; esac
echo "end $BOOTFARM_PLATFORM $(date +%s%3N)" >> '${marks}'
echo "BOOTFARM: boot ok"
`;

interface Mark {
  what: 'start' | 'end';
  platform: string;
  at: number;
}

/** The most boots of `platform` that ran at once, from the program's marks. */
function mostAtOnce(marks: Mark[], platform: string): number {
  let now = 0;
  let most = 0;
  for (const m of [...marks]
    .filter((x) => x.platform === platform)
    .sort((a, b) => a.at - b.at || (a.what === 'end' ? -1 : 1))) {
    now += m.what === 'start' ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

describe('lab workers', () => {
  let client: Client;
  let closeClient: () => Promise<void>;
  let connection: NativeConnection;

  beforeAll(async () => {
    ({ client, close: closeClient } = await temporalClient());
    connection = await NativeConnection.connect({ address: temporalAddress() });
  });
  afterAll(async () => {
    await connection?.close();
    await closeClient?.();
  });

  it('run at most as many boots of a platform as the lab has boards of it, and a busy platform never holds up another', async () => {
    const dir = await mkdtemp(join(testDir(), 'boards-'));
    const marks = join(dir, 'marks');
    const program = join(dir, 'board.sh');
    await writeFile(program, BOARD(marks));
    await chmod(program, 0o755);
    const lab = uniqueId('boards-');
    const config = parseConfig(`
dataDir: ${dir}
platforms:
  - { name: slow, arch: x86_64 }
  - { name: fast, arch: x86_64 }
labs:
  - { name: ${lab}, adapter: shell, shell: { program: ${program} }, platforms: [{ name: slow, capacity: 2 }, fast] }
`);
    const store = new DirStore(join(dir, 'artifacts'));
    const kernel = await store.put('builds/t/k/bzImage', 'fixture kernel\n');
    const labWorkers = await createLabWorkers({ config, connection, namespace: 'default', store }, lab);
    expect(labWorkers.map((w) => w.options.taskQueue)).toEqual([
      taskQueues.labPlatform(lab, 'slow'),
      taskQueues.labPlatform(lab, 'fast'),
    ]);
    // a boot as buildBoot queues it: the test's workflow runs on the board queue's name (workflow tasks only)
    const workflowWorkers = await Promise.all(
      ['slow', 'fast'].map((p) =>
        Worker.create({
          connection,
          taskQueue: taskQueues.labPlatform(lab, p),
          workflowsPath: require.resolve('../dashboard/workflows/asyncBoot'),
        }),
      ),
    );
    const all = [...labWorkers, ...workflowWorkers];
    const running = all.map((w) => w.run());
    try {
      const boot = (platform: string, n: number): Promise<BootResult> => {
        const req: BootRequest = {
          tree: 't',
          sha: 'a'.repeat(40),
          describe: 'v0.1',
          configName: 'x86_64-defconfig',
          arch: 'x86_64',
          platform: config.platforms.find((p) => p.name === platform)!,
          lab,
          kernel,
          timeoutMs: 30_000,
          bootKey: `${lab}:${platform}:${n}`,
        };
        return client.workflow.execute('asyncBoot', {
          taskQueue: taskQueues.labPlatform(lab, platform),
          workflowId: uniqueId(`${lab}-${platform}-${n}-`),
          args: [req],
        });
      };
      // five slow boots first, then three fast ones: the fast board must not wait for the slow ones
      const slow = Array.from({ length: 5 }, (_, n) => boot('slow', n));
      const fast = Array.from({ length: 3 }, (_, n) => boot('fast', n));
      const results = await Promise.all([...slow, ...fast]);
      expect(results.map((r) => r.status)).toEqual(Array(8).fill('pass'));
      const seen: Mark[] = (await readFile(marks, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => {
          const [what, platform, at] = line.split(' ');
          return { what: what as Mark['what'], platform, at: Number(at) };
        });
      expect([mostAtOnce(seen, 'slow'), mostAtOnce(seen, 'fast')]).toEqual([2, 1]);
      const ends = (p: string) => seen.filter((m) => m.platform === p && m.what === 'end').map((m) => m.at);
      const starts = (p: string) => seen.filter((m) => m.platform === p && m.what === 'start').map((m) => m.at);
      // all three fast boots were done before the slow boards had finished their first two boots
      expect(Math.max(...ends('fast'))).toBeLessThan(Math.min(...ends('slow')));
      expect(starts('slow')).toHaveLength(5);
      // each recorded duration is the boot alone, not its wait for a board
      for (const r of results) expect(r.durationMs).toBeLessThan(r.platform === 'slow' ? 3_500 : 1_500);
    } finally {
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running);
    }
  });
});
