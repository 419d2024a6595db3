/**
 * Issue 17, fair sharing of boards: two trees push at once into one lab
 * with one board, through the real stack (real builds, real QEMU behind a
 * lab program, the REST API). The board notes which boot it takes when,
 * and holds its first boot until the test opens a gate, so every boot of
 * both revisions is queued while the board is busy: what it takes next is
 * then decided by Temporal's queue alone, not by which build ended first.
 * A tree that pushes while another's whole revision waits for the board
 * has its first boot among the board's first three, not behind that
 * revision; and a bisection's boot, queued
 * behind seven routine boots, is the next one the board takes. Temporal
 * hands the boots out by priority, then by tree in proportion to the trees'
 * shares (domain/boardPriority.ts; the dev server runs with fairness on).
 *
 * Costs about two minutes: 20 fixture builds, 20 QEMU boots of ~3 s.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { temporal } from '@temporalio/proto';
import { join } from 'node:path';
import { ROOT } from '../slow/support/embeddedUp';
import { commitChange } from '../../fixtures/generator';
import type { RevisionReport } from '../../domain/revisionReport';
import { taskQueues } from '../../domain/ids';
import { PRIORITY_KEYS } from '../../domain/boardPriority';
import { uniqueId } from '../harness/services';
import { startScenarioStack, type ScenarioStack } from './support/scenarioStack';
import { FOUR_BUILD_CONFIGS_YAML, FOUR_CONFIGS, routineTreeYaml } from './support/queueFleet';

const CONFIGS = FOUR_CONFIGS;

/**
 * The lab's board: notes each boot it takes (time, boot key), waits while
 * the gate is closed (no file), then boots it in QEMU (labs/shell/qemu-boot.sh).
 */
const BOARD = (marks: string, gate: string) => `#!/bin/sh
echo "$(date +%s%3N) $BOOTFARM_BOOT_KEY" >> '${marks}'
while [ ! -e '${gate}' ]; do sleep 0.1; done
exec '${join(ROOT, 'labs', 'shell', 'qemu-boot.sh')}' "$@"
`;

interface Taken {
  at: number;
  bootKey: string;
  /** the tree, for a revision's own boot; 'bisect' for a bisection's */
  who: string;
}

describe('scenario: trees share the boards', () => {
  let stack: ScenarioStack;
  let marks = '';
  let gate = '';
  const [first, second] = [uniqueId('fa'), uniqueId('fb')];
  const lab = uniqueId('onebrd');

  beforeAll(async () => {
    stack = await startScenarioStack({
      builds: 2,
      fleet: (url, dir) => {
        marks = join(dir, 'board-marks');
        gate = join(dir, 'board-gate');
        return `
trees:${routineTreeYaml(first, url)}${routineTreeYaml(second, url)}
${FOUR_BUILD_CONFIGS_YAML}
platforms:
  - { name: board, arch: x86_64, soc: qemu-pc, memoryMb: 128, kernelArgs: "fixture.delay=2" }
labs:
  - name: ${lab}
    adapter: shell
    shell: { program: ${join(dir, 'board.sh')} }
    platforms: [{ name: board, capacity: 1 }]
    scheduleToStartTimeout: 10m
    bootTimeout: 10m
    offlineGrace: 30s
`;
      },
    });
    await writeFile(join(stack.dir, 'board.sh'), BOARD(marks, gate));
    await chmod(join(stack.dir, 'board.sh'), 0o755);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** What the board took, in order. */
  const taken = async (): Promise<Taken[]> =>
    (await readFile(marks, 'utf8').catch(() => ''))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [at, bootKey] = line.split(' ');
        const who = bootKey.startsWith('bisect:') ? 'bisect' : bootKey.split(':')[1];
        return { at: Number(at), bootKey, who };
      });

  const push = (tree: string, sha: string): Promise<{ report: Promise<RevisionReport> }> =>
    stack.pushRevision(tree, sha);

  /** Resolves once `count` builds of `sha` (both trees' revisions by default) have passed: their boots are queued. */
  const routineBuildsDone = async (sha: string, count = 2 * CONFIGS.length) => {
    for (let i = 0; ; i++) {
      const builds = (
        await stack.api<{ items: { status: string }[] }>(`/api/builds?sha=${sha}&limit=100`)
      ).items.filter((x) => x.status === 'pass');
      if (builds.length >= count) return;
      if (i > 1500) throw new Error('the routine builds did not finish');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  /** Boots waiting in the board's queue, by priority key (Temporal's task queue statistics). */
  const backlog = async (): Promise<Map<number, number>> => {
    const described = await stack.client.workflowService.describeTaskQueue({
      namespace: stack.client.options.namespace,
      taskQueue: { name: taskQueues.labPlatform(lab, 'board') },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    return new Map(
      Object.entries(described.statsByPriorityKey ?? {}).map(([k, v]) => [
        Number(k),
        Number(v.approximateBacklogCount ?? 0),
      ]),
    );
  };

  const untilBacklog = async (what: string, enough: (byPriority: Map<number, number>) => boolean) => {
    for (let i = 0; !enough(await backlog()); i++) {
      if (i > 300) throw new Error(`the board's queue never held ${what}: ${JSON.stringify([...(await backlog())])}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const routineKey = PRIORITY_KEYS.routine;
  const verdictKey = PRIORITY_KEYS.verdict;

  it("interleaves two trees' boots on one board: a tree that pushes behind another's queued revision has its first result long before that revision is done", async () => {
    const sha = await commitChange(stack.repo, { subject: 'net: a change both trees carry' });
    await rm(gate, { force: true });
    // the first tree's whole revision is queued for the board (which holds its first boot) when the second pushes
    const a = await push(first, sha);
    await routineBuildsDone(sha, CONFIGS.length);
    await untilBacklog("the first tree's other three boots", (q) => (q.get(routineKey) ?? 0) >= CONFIGS.length - 1);
    const b = await push(second, sha);
    await routineBuildsDone(sha);
    await untilBacklog('seven routine boots', (q) => (q.get(routineKey) ?? 0) >= 2 * CONFIGS.length - 1);
    await writeFile(gate, '');
    const [ra, rb] = await Promise.all([a.report, b.report]);
    expect([ra.counts.boots, rb.counts.boots]).toEqual([
      expect.objectContaining({ total: 4, pass: 4 }),
      expect.objectContaining({ total: 4, pass: 4 }),
    ]);
    const order = (await taken()).map((t) => t.who);
    expect(order).toHaveLength(8);
    // first come, first served would give the first tree's four boots, then the second's
    expect(order[0]).toBe(first);
    expect(order.indexOf(second)).toBeLessThanOrEqual(2);
    // and they keep alternating: each tree has two of the board's first five boots at least
    const early = order.slice(0, 5);
    expect(early.filter((w) => w === first).length).toBeGreaterThanOrEqual(2);
    expect(early.filter((w) => w === second).length).toBeGreaterThanOrEqual(2);
    // in time: the second tree had its first result while the first tree still had at least two boots to go
    const boots = (
      await stack.api<{ items: { tree: string; finishedAt: string }[] }>(`/api/boots?sha=${sha}&lab=${lab}&limit=100`)
    ).items;
    const done = (tree: string) => boots.filter((x) => x.tree === tree).map((x) => Date.parse(x.finishedAt));
    const secondFirstResult = Math.min(...done(second));
    expect(done(first).filter((t) => t > secondFirstResult).length).toBeGreaterThanOrEqual(2);
  });

  it('boots a bisection ahead of the routine boots already waiting for the board', async () => {
    const good = await commitChange(stack.repo, { subject: 'mm: the last commit before the range' });
    await commitChange(stack.repo, { subject: 'mm: a change in the range' });
    const head = await commitChange(stack.repo, { subject: 'mm: the head both trees test' });
    await rm(gate, { force: true });
    const before = (await taken()).length;
    const runs = [await push(first, head), await push(second, head)];
    // the board holds one routine boot; the other seven wait in its queue
    await routineBuildsDone(head);
    await untilBacklog('seven routine boots', (q) => (q.get(routineKey) ?? 0) >= 2 * CONFIGS.length - 1);
    const takenAtTrigger = (await taken()).length - before;
    expect(takenAtTrigger).toBe(1);

    const bisection = await stack.post<{ workflowId: string }>('/api/bisections', {
      tree: first,
      good,
      bad: head,
      config: 'x86_64-tiny',
      platform: 'board',
    });
    expect(bisection.status).toBe(202);
    // its first boot joins the queue behind the seven; then the board is let go
    await untilBacklog("the bisection's boot", (q) => (q.get(verdictKey) ?? 0) >= 1);
    await writeFile(gate, '');
    for (let i = 0; !(await taken()).slice(before).some((t) => t.who === 'bisect'); i++) {
      if (i > 600) throw new Error('the bisection never booted');
      await new Promise((r) => setTimeout(r, 200));
    }
    await Promise.all(runs.map((r) => r.report));
    const order = (await taken()).slice(before).map((t) => t.who);
    const firstBisect = order.indexOf('bisect');
    const routineAfter = order.slice(firstBisect).filter((w) => w !== 'bisect').length;
    // the board's next boot after the one it held was the bisection's, ahead of all seven routine boots
    expect(order[takenAtTrigger]).toBe('bisect');
    expect(routineAfter).toBe(2 * CONFIGS.length - takenAtTrigger);
  });
});
