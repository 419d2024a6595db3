/**
 * Issue 12, "a busy board makes an idle board's boots offline": one lab with
 * a slow platform (a kernel that takes 4 s to boot, fixture.delay) and a
 * fast one, one board each, four build configs, through the real stack
 * (real builds, real QEMU, the REST API). A boot waits in its platform's
 * queue for a free board of its kind — longer than the lab's
 * schedule-to-start, for the slow boards — and never becomes offline while
 * its platform is served; the fast board never waits for the slow one; each
 * recorded duration is the boot alone. Then one platform's only board is
 * stopped: that platform goes offline, the lab's other keeps passing.
 *
 * Costs about a minute: 8 fixture builds, 16 QEMU boots.
 */
import { temporal } from '@temporalio/proto';
import { taskQueues, workflowIds } from '../../domain/ids';
import { commitChange } from '../../fixtures/generator';
import { uniqueId } from '../harness/services';
import { keepHistory } from '../replay/record';
import { startScenarioStack, type ScenarioStack } from './support/scenarioStack';
import { FOUR_BUILD_CONFIGS_YAML, FOUR_CONFIGS, routineTreeYaml } from './support/queueFleet';

const SLOW_DELAY_S = 4;
const SCHEDULE_TO_START_S = 6;
const CONFIGS = FOUR_CONFIGS;

interface ApiBoot {
  config: string;
  platform: string;
  lab: string;
  status: string;
  durationMs: number;
  message: string;
  createdAt: string;
  finishedAt: string;
}

interface ApiLab {
  name: string;
  health: string;
  platforms: { name: string; capacity: number; health: string }[];
}

describe('scenario: a busy board never makes an idle board of the same lab offline', () => {
  let stack: ScenarioStack;
  const tree = uniqueId('busy');
  const lab = uniqueId('farm');

  beforeAll(async () => {
    stack = await startScenarioStack({
      builds: 2,
      fleet: (url) => `
trees:${routineTreeYaml(tree, url)}
${FOUR_BUILD_CONFIGS_YAML}
platforms:
  - { name: slow-board, arch: x86_64, soc: qemu-pc, memoryMb: 128, kernelArgs: "fixture.delay=${SLOW_DELAY_S}" }
  - { name: fast-board, arch: x86_64, soc: qemu-pc, memoryMb: 128 }
labs:
  - name: ${lab}
    adapter: qemu
    platforms: [{ name: slow-board, capacity: 1 }, { name: fast-board, capacity: 1 }]
    scheduleToStartTimeout: ${SCHEDULE_TO_START_S}s
    bootTimeout: 30s
    offlineGrace: 2s
`,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const boots = async (sha: string) =>
    (await stack.api<{ items: ApiBoot[] }>(`/api/boots?tree=${tree}&sha=${sha}&limit=100`)).items;
  const labState = async () => (await stack.api<{ items: ApiLab[] }>('/api/labs')).items.find((l) => l.name === lab)!;
  const revision = async (sha: string) => (await stack.pushRevision(tree, sha)).report;

  it("boots every build on both platforms: no fast boot offline, slow boots wait for their board, durations are the boots'", async () => {
    const sha = await commitChange(stack.repo, { subject: 'sched: a change every board must boot' });
    const report = await revision(sha);
    const seen = await boots(sha);
    const on = (platform: string) => seen.filter((b) => b.platform === platform);

    // every boot of both platforms ran and passed: none offline, none an infrastructure error
    expect(seen.map((b) => `${b.config}@${b.platform}:${b.status}`).sort()).toEqual(
      CONFIGS.flatMap((c) => [`${c}@fast-board:pass`, `${c}@slow-board:pass`]).sort(),
    );
    expect(report.counts.boots).toMatchObject({ total: 8, pass: 8, offline: 0, infraError: 0 });

    // the slow board booted one kernel at a time, and the last of them waited far longer than the lab's
    // schedule-to-start: queued for a free board of its kind, not recorded offline
    const slow = on('slow-board').sort((a, b) => Date.parse(a.finishedAt) - Date.parse(b.finishedAt));
    const span = Date.parse(slow[3].finishedAt) - Date.parse(slow[0].finishedAt);
    expect(span).toBeGreaterThanOrEqual(3 * SLOW_DELAY_S * 1000);
    // each duration is the boot alone (the kernel's delay plus QEMU), not the wait for the board
    for (const b of slow) {
      expect(b.durationMs).toBeGreaterThanOrEqual(SLOW_DELAY_S * 1000);
      expect(b.durationMs).toBeLessThan(SLOW_DELAY_S * 1000 + 4_000);
    }
    for (const b of on('fast-board')) expect(b.durationMs).toBeLessThan(4_000);
    // the fast board did not wait behind the slow one: its boots were all done before the slow board's last
    const fastDone = Math.max(...on('fast-board').map((b) => Date.parse(b.finishedAt)));
    expect(fastDone).toBeLessThan(Date.parse(slow[3].finishedAt));

    // Temporal's own record: some slow boot outwaited its schedule-to-start on the served, busy board and was
    // queued again rather than recorded offline
    const slowQueue = taskQueues.labPlatform(lab, 'slow-board');
    const queued = await Promise.all(
      CONFIGS.map(async (config) => {
        const handle = stack.client.workflow.getHandle(workflowIds.buildBoot(tree, sha, config));
        const { events } = await handle.fetchHistory();
        const n = (events ?? []).filter(
          (e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name === slowQueue,
        ).length;
        const timedOut = (events ?? []).filter(
          (e) =>
            e.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType ===
            temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
        ).length;
        return { config, handle, n, timedOut };
      }),
    );
    const requeued = queued.filter((q) => q.n > 1);
    expect(requeued.length).toBeGreaterThanOrEqual(1);
    for (const q of requeued) expect(q.timedOut).toBe(q.n - 1);
    await keepHistory('buildBoot-board-busy', requeued[0].handle);

    const state = await labState();
    expect(state.health).toBe('online');
    expect(state.platforms.map((p) => [p.name, p.capacity, p.health])).toEqual([
      ['slow-board', 1, 'online'],
      ['fast-board', 1, 'online'],
    ]);
  });

  it("reports a platform whose only board is stopped offline, while the lab's other platform keeps passing", async () => {
    const stop = await stack.post<{ state: string; platforms: { name: string; state: string }[] }>(
      `/api/labs/${lab}/worker`,
      { running: false, platform: 'slow-board' },
    );
    expect([200, 202]).toContain(stop.status); // stopped, or still ending its idle poll
    let platforms = stop.json.platforms;
    for (let i = 0; i < 100 && platforms[0].state !== 'stopped'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      platforms = (await stack.api<typeof stop.json>(`/api/labs/${lab}/worker`)).platforms;
    }
    expect(platforms.map((p) => [p.name, p.state])).toEqual([
      ['slow-board', 'stopped'],
      ['fast-board', 'running'],
    ]);

    const sha = await commitChange(stack.repo, { subject: 'mm: a change booted while a board is out' });
    const report = await revision(sha);
    const seen = await boots(sha);
    const fast = seen.filter((b) => b.platform === 'fast-board');
    const slow = seen.filter((b) => b.platform === 'slow-board');
    expect(fast.map((b) => b.status)).toEqual(CONFIGS.map(() => 'pass'));
    expect(slow.map((b) => b.status)).toEqual(CONFIGS.map(() => 'offline'));
    // named by its board queue when found unserved at dispatch, by platform and lab when its boot waited out the queue
    for (const b of slow)
      expect(b.message).toMatch(new RegExp(`lab-${lab}-slow-board|no board of slow-board in lab ${lab} took the boot`));
    expect(report.counts.boots).toMatchObject({ total: 8, pass: 4, offline: 4 });

    const state = await labState();
    expect(state.health).toBe('partial');
    expect(state.platforms.map((p) => [p.name, p.health])).toEqual([
      ['slow-board', 'offline'],
      ['fast-board', 'online'],
    ]);

    // back in service: the platform takes boots again
    const start = await stack.post<{ state: string }>(`/api/labs/${lab}/worker`, {
      running: true,
      platform: 'slow-board',
    });
    expect([start.status, start.json.state]).toEqual([200, 'running']);
    expect((await labState()).platforms.map((p) => p.health)).toEqual(['online', 'online']);
  });
});
