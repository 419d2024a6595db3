/**
 * Issue 17, fair sharing of boards: two trees push at once into one lab
 * with one board, through the real stack (real builds, real QEMU behind a
 * lab program, the REST API). The board notes which boot it takes when.
 * The second tree's first boot is among the board's first, not behind the
 * first tree's whole revision; and a bisection, started while routine boots
 * wait for the board, boots ahead of them. Temporal hands the boots out by
 * priority, then by tree in proportion to the trees' shares
 * (domain/boardPriority.ts; the dev server runs with fairness on).
 *
 * Costs about two minutes: 20 fixture builds, 20 QEMU boots of ~3 s.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../slow/support/embeddedUp';
import { commitChange } from '../../fixtures/generator';
import type { RevisionReport } from '../../domain/revisionReport';
import { uniqueId } from '../harness/services';
import { startScenarioStack, type ScenarioStack } from './support/scenarioStack';

const CONFIGS = ['x86_64-defconfig', 'x86_64-debug', 'x86_64-tiny', 'x86_64-extra'];

/** The lab's board: notes each boot it takes (time, boot key), then boots it in QEMU (labs/shell/qemu-boot.sh). */
const BOARD = (marks: string) => `#!/bin/sh
echo "$(date +%s%3N) $BOOTFARM_BOOT_KEY" >> '${marks}'
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
  const [first, second] = [uniqueId('fa'), uniqueId('fb')];
  const lab = uniqueId('onebrd');

  beforeAll(async () => {
    stack = await startScenarioStack({
      builds: 2,
      fleet: (url, dir) => {
        marks = join(dir, 'board-marks');
        const tree = (name: string) => `
  - name: ${name}
    url: ${url}
    branches: [master]
    buildConfigs: [${CONFIGS.join(', ')}]
    concurrency: 4
    confirmations: 0
    report: { delay: 1h }
    bisect: { enabled: false }`;
        return `
trees:${tree(first)}${tree(second)}
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
  - { name: x86_64-debug, arch: x86_64, defconfig: debug_defconfig }
  - { name: x86_64-tiny, arch: x86_64, defconfig: tinyconfig }
  - { name: x86_64-extra, arch: x86_64, defconfig: defconfig, fragments: ["CONFIG_DEBUG_EXTRA=y"] }
platforms:
  - { name: board, arch: x86_64, soc: qemu-pc, memoryMb: 128, kernelArgs: "fixture.delay=2" }
labs:
  - name: ${lab}
    adapter: shell
    shell: { program: ${join(dir, 'board.sh')} }
    platforms: [{ name: board, capacity: 1 }]
    scheduleToStartTimeout: 20s
    bootTimeout: 30s
    offlineGrace: 30s
`;
      },
    });
    await writeFile(join(stack.dir, 'board.sh'), BOARD(marks));
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

  it("interleaves two trees' boots on one board: the second tree's first result comes long before the first tree is done", async () => {
    const sha = await commitChange(stack.repo, { subject: 'net: a change both trees carry' });
    const a = await push(first, sha);
    await new Promise((r) => setTimeout(r, 500)); // the second tree pushes just after the first
    const b = await push(second, sha);
    const [ra, rb] = await Promise.all([a.report, b.report]);
    expect([ra.counts.boots, rb.counts.boots]).toEqual([
      expect.objectContaining({ total: 4, pass: 4 }),
      expect.objectContaining({ total: 4, pass: 4 }),
    ]);
    const order = (await taken()).map((t) => t.who);
    expect(order).toHaveLength(8);
    // first come, first served would give the first tree's four boots, then the second's
    const firstOfSecond = order.indexOf(second);
    expect(firstOfSecond).toBeLessThanOrEqual(2);
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
    const before = (await taken()).length;
    const runs = [await push(first, head), await push(second, head)];
    // every routine build is done, so every routine boot is queued for the board (or on it)
    for (let i = 0; ; i++) {
      const builds = (
        await stack.api<{ items: { status: string }[] }>(`/api/builds?sha=${head}&limit=100`)
      ).items.filter((x) => x.status === 'pass');
      if (builds.length === 2 * CONFIGS.length) break;
      if (i > 600) throw new Error('the routine builds did not finish');
      await new Promise((r) => setTimeout(r, 200));
    }
    const takenAtTrigger = (await taken()).length - before;
    expect(takenAtTrigger).toBeLessThanOrEqual(4); // at least four of the eight routine boots still wait

    const bisection = await stack.post<{ workflowId: string }>('/api/bisections', {
      tree: first,
      good,
      bad: head,
      config: 'x86_64-tiny',
      platform: 'board',
    });
    expect(bisection.status).toBe(202);
    // wait for the bisection's first boot on the board
    for (let i = 0; !(await taken()).slice(before).some((t) => t.who === 'bisect'); i++) {
      if (i > 600) throw new Error('the bisection never booted');
      await new Promise((r) => setTimeout(r, 200));
    }
    await Promise.all(runs.map((r) => r.report));
    const order = (await taken()).slice(before).map((t) => t.who);
    const firstBisect = order.indexOf('bisect');
    const routineAfter = order.slice(firstBisect).filter((w) => w !== 'bisect').length;
    // the routine boots that were waiting when the bisection came: at most the one the board took while the
    // bisection built its step went first; the others booted after the bisection's boot
    expect(firstBisect - takenAtTrigger).toBeLessThanOrEqual(1);
    expect(routineAfter).toBeGreaterThanOrEqual(3);
  });
});
