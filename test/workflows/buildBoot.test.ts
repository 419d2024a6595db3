/**
 * buildBoot's own logic under time skipping: labs that never pick a boot
 * up, boots that hang, infrastructure errors, labs that are down while
 * others report. Builds and boots are stand-ins; results are recorded in
 * real PostgreSQL by the real recording activities.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildBoot } from '../../workflows/buildBoot';
import { createResultActivities } from '../../activities/pipeline/records';
import type { BootRequest, BootResult, BuildRequest, BuildResult } from '../../domain/types';
import { freshDatabase, uniqueId, type TestDatabase } from '../harness/services';
import { boardWorkers, buildBootInput, eventually, passedBoot, passedBuild, testConfig } from './pipelineFixtures';
import { timeSkippingEnv, withWorkers } from './workers';

let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  [env, db] = await Promise.all([timeSkippingEnv(), freshDatabase()]);
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
});

interface Setup {
  build?: (req: BuildRequest) => Promise<BuildResult>;
  /** boot stand-in per lab; a lab without one has no worker at all */
  labs?: Record<string, (req: BootRequest) => Promise<BootResult>>;
  /** what the poller check answers per lab, or per lab and check (0 = the check before dispatch); default online */
  online?: Record<string, boolean | ((check: number) => boolean)>;
  attempts?: number;
  /** what the revision saw: labs (by key) whose platforms were all found online, and how long before the build started */
  seenOnline?: { labs: string[]; agoMs: number };
}

/** Run one buildBoot with its own labs and queues; returns its result, workflow id and server-time duration. */
async function runBuildBoot(setup: Setup, during?: (workflowId: string) => Promise<void>) {
  const labA = uniqueId('la');
  const labB = uniqueId('lb');
  const prefix = `${uniqueId('q')}-`;
  const taskQueue = `${prefix}bootfarm`;
  const cfg = testConfig({ labs: [labA, labB], attempts: setup.attempts });
  const input = buildBootInput(cfg, prefix);
  const labNames: Record<string, string> = { A: labA, B: labB };
  const platformsOf = (lab: string) => cfg.labs.find((l) => l.name === lab)!.platforms.map((p) => p.name);
  if (setup.seenOnline) {
    const at = (await env.currentTimeMs()) - setup.seenOnline.agoMs;
    const labs = setup.seenOnline.labs.map((k) => labNames[k]);
    input.labsSeenOnline = { at, labs, platforms: Object.fromEntries(labs.map((l) => [l, platformsOf(l)])) };
  }
  /** every check, as `lab/platform` */
  const polled: string[] = [];
  const workers = [
    {
      taskQueue,
      workflows: true,
      activities: {
        ...createResultActivities({ sql: db.sql }),
        async labHasPollers({ lab, platform }: { lab: string; platform: string }) {
          const check = polled.filter((p) => p.startsWith(`${lab}/`)).length;
          polled.push(`${lab}/${platform}`);
          const key = Object.keys(labNames).find((k) => labNames[k] === lab)!;
          const answer = setup.online?.[key] ?? true;
          return typeof answer === 'function' ? answer(check) : answer;
        },
      },
    },
    {
      taskQueue: `${prefix}build`,
      activities: { buildKernel: setup.build ?? (async (req: BuildRequest) => passedBuild(req)) },
    },
    ...Object.entries(setup.labs ?? {}).flatMap(([key, bootKernel]) =>
      boardWorkers(cfg, prefix, labNames[key], bootKernel),
    ),
  ];
  const workflowId = uniqueId('build-');
  return withWorkers(env, workers, async () => {
    const handle = await env.client.workflow.start(buildBoot, { taskQueue, workflowId, args: [input] });
    await during?.(workflowId);
    const result = await handle.result();
    // which task queues the workflow sent activities to, in order
    const history = await handle.fetchHistory();
    const queues = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.taskQueue?.name ?? ''] : [],
    );
    return { result, workflowId, labA, labB, polled, queues, prefix };
  });
}

const bootRows = (workflowId: string) =>
  db.sql<{ platform: string; lab: string; status: string; run: number; attempts: number; message: string }[]>`
    select platform, lab, status, run, attempts, message from boots where workflow_id = ${workflowId} order by platform, lab`;

describe('buildBoot', () => {
  it('boots a passing build on every target and records the build and each boot once', async () => {
    const { result, workflowId, labA, labB } = await runBuildBoot({
      labs: { A: async (r) => passedBoot(r), B: async (r) => passedBoot(r) },
    });
    expect(result.build.status).toBe('pass');
    expect(result.boots.map((b) => `${b.platform}@${b.lab}:${b.status}`).sort()).toEqual(
      [`pc-x86_64@${labA}:pass`, `qemu-x86_64@${labA}:pass`, `qemu-x86_64@${labB}:pass`].sort(),
    );
    const [build] = await db.sql`select id, status, warnings, log_key from builds where workflow_id = ${workflowId}`;
    expect(build).toMatchObject({ status: 'pass', warnings: 2, log_key: expect.stringContaining('build.log') });
    expect(result.buildId).toBe(Number(build.id));
    expect((await bootRows(workflowId)).map((b) => b.status)).toEqual(['pass', 'pass', 'pass']);
  });

  it('records a boot offline when no board takes it within scheduleToStartTimeout and its platform is no longer served', async () => {
    // Lab B looks alive to the check before dispatch, but nobody takes its boot, and then nobody serves it.
    const { result, workflowId, labA, labB, queues, prefix } = await runBuildBoot({
      labs: { A: async (r) => passedBoot(r) },
      online: { B: (check) => check === 0 },
    });
    const byLab = Object.fromEntries(result.boots.filter((b) => b.platform === 'qemu-x86_64').map((b) => [b.lab, b]));
    expect(byLab[labA].status).toBe('pass');
    expect(byLab[labB].status).toBe('offline');
    expect(byLab[labB].message).toBe(
      `no board of qemu-x86_64 in lab ${labB} took the boot within 5s, and no worker serves it now`,
    );
    expect(queues).toContain(`${prefix}lab-${labB}-qemu-x86_64`); // it was queued, and nobody took it
    expect(queues.filter((q) => q.includes(labB))).toHaveLength(1);
    const rows = await bootRows(workflowId);
    expect(rows.find((r) => r.lab === labB)).toMatchObject({ status: 'offline', attempts: 0 });
  });

  it('records a lab with no polling worker offline at once, without queueing its boot (check before dispatch)', async () => {
    let bootsOnB = 0;
    const { result, labB, polled, queues, prefix } = await runBuildBoot({
      labs: { A: async (r) => passedBoot(r), B: async (r) => (bootsOnB++, passedBoot(r)) },
      online: { B: false },
    });
    const b = result.boots.find((x) => x.lab === labB)!;
    expect(b.status).toBe('offline');
    expect(b.message).toMatch(new RegExp(`no worker polled ${prefix}lab-${labB}-qemu-x86_64 within`));
    expect(bootsOnB).toBe(0);
    expect(queues.some((q) => q.includes(labB))).toBe(false);
    // one check per platform of a lab, shared by that platform's boots
    expect(polled.filter((p) => !p.startsWith(`${labB}/`)).sort()).toEqual([
      `${result.boots.find((x) => x.platform === 'pc-x86_64')!.lab}/pc-x86_64`,
      `${result.boots.find((x) => x.platform === 'pc-x86_64')!.lab}/qemu-x86_64`,
    ]);
    expect(result.boots.filter((x) => x.lab !== labB).every((x) => x.status === 'pass')).toBe(true);
  });

  it("trusts the revision's check of a lab seen online within the lab's offline grace, and asks about any other", async () => {
    const both = { labs: { A: async (r: BootRequest) => passedBoot(r), B: async (r: BootRequest) => passedBoot(r) } };
    // Lab A (grace 60s) and lab B (default grace 60s) seen online just now: no check of either.
    const fresh = await runBuildBoot({ ...both, seenOnline: { labs: ['A', 'B'], agoMs: 0 } });
    expect(fresh.polled).toEqual([]);
    expect(fresh.result.boots.every((b) => b.status === 'pass')).toBe(true);
    // Seen online longer ago than its grace: asked again, and its fresh answer counts.
    const stale = await runBuildBoot({
      ...both,
      seenOnline: { labs: ['A', 'B'], agoMs: 61_000 },
      online: { B: false },
    });
    expect(stale.polled.sort()).toEqual(
      [`${stale.labA}/pc-x86_64`, `${stale.labA}/qemu-x86_64`, `${stale.labB}/qemu-x86_64`].sort(),
    );
    expect(stale.result.boots.find((b) => b.lab === stale.labB)?.status).toBe('offline');
    // Not seen online (offline, or the revision could not tell): asked again, so a lab that came back gets its boots.
    const back = await runBuildBoot({ ...both, seenOnline: { labs: ['A'], agoMs: 0 } });
    expect(back.polled).toEqual([`${back.labB}/qemu-x86_64`]);
    expect(back.result.boots.every((b) => b.status === 'pass')).toBe(true);
  });

  it('retries a boot that outlives its timeout and ends it as infra-error, never fail', async () => {
    let attempts = 0;
    const hang = async (): Promise<BootResult> => {
      attempts++;
      // hangs until Temporal gives up on it (start-to-close), as a wedged lab worker would
      await new Promise<void>((resolve) =>
        Context.current().cancellationSignal.addEventListener('abort', () => resolve()),
      );
      throw new Error('cancelled');
    };
    const { result, workflowId, labA } = await runBuildBoot({
      labs: {
        A: async (r) => (r.platform.name === 'qemu-x86_64' ? hang() : passedBoot(r)),
        B: async (r) => passedBoot(r),
      },
      attempts: 2,
    });
    const hung = result.boots.find((b) => b.lab === labA && b.platform === 'qemu-x86_64')!;
    expect(hung.status).toBe('infra-error');
    expect(hung.message).toMatch(/2 attempt\(s\).*start-to-close timeout/);
    expect(attempts).toBe(2);
    expect(result.boots.filter((b) => b !== hung).every((b) => b.status === 'pass')).toBe(true);
    expect((await bootRows(workflowId)).find((r) => r.lab === labA && r.platform === 'qemu-x86_64')).toMatchObject({
      status: 'infra-error',
      attempts: 2,
    });
  });

  it('retries infrastructure errors: a boot that recovers passes, one that never does ends as infra-error', async () => {
    const calls: Record<string, number> = {};
    const flaky = async (r: BootRequest): Promise<BootResult> => {
      const n = (calls[r.platform.name] = (calls[r.platform.name] ?? 0) + 1);
      if (r.platform.name === 'pc-x86_64' || n === 1)
        throw new Error(`serial console of ${r.platform.name} unreachable`);
      return passedBoot(r);
    };
    const { result, labA } = await runBuildBoot({ labs: { A: flaky, B: async (r) => passedBoot(r) }, attempts: 3 });
    const onA = Object.fromEntries(result.boots.filter((b) => b.lab === labA).map((b) => [b.platform, b]));
    expect(onA['qemu-x86_64']).toMatchObject({ status: 'pass', attempts: 2 });
    expect(onA['pc-x86_64'].status).toBe('infra-error');
    expect(onA['pc-x86_64'].message).toMatch(/3 attempt\(s\): serial console of pc-x86_64 unreachable/);
    expect(calls['pc-x86_64']).toBe(3);
  });

  it('does not retry a boot whose error says retrying cannot help', async () => {
    let calls = 0;
    const { result, labB } = await runBuildBoot({
      labs: {
        A: async (r) => passedBoot(r),
        B: async () => {
          calls++;
          throw ApplicationFailure.create({
            type: 'ArtifactNotFoundError',
            message: 'artifact not found: builds/x/bzImage',
            nonRetryable: true,
          });
        },
      },
    });
    expect(result.boots.find((b) => b.lab === labB)).toMatchObject({
      status: 'infra-error',
      message: expect.stringMatching(/artifact not found/),
    });
    expect(calls).toBe(1);
  });

  it("reports one lab's boots while another lab is down", async () => {
    let seenWhileRunning = false;
    const setup = {
      labs: { A: async (r: BootRequest) => passedBoot(r) },
      online: { B: (check: number) => check === 0 },
    };
    const { result, labB } = await runBuildBoot(setup, async (workflowId) => {
      // Lab A's results are in the database while lab B's boot is still waiting to be picked up.
      await eventually(
        'lab A results',
        async () => (await bootRows(workflowId)).filter((r) => r.status === 'pass').length === 2,
      );
      const desc = await env.client.workflow.getHandle(workflowId).describe();
      seenWhileRunning = desc.status.name === 'RUNNING';
    });
    expect(seenWhileRunning).toBe(true);
    expect(result.boots.find((b) => b.lab === labB)!.status).toBe('offline');
  });

  it('boots nothing when the build fails, and records the failure as a result', async () => {
    let boots = 0;
    const failing = async (req: BuildRequest): Promise<BuildResult> => ({
      ...passedBuild(req),
      status: 'fail',
      errors: 1,
      artifacts: { log: { key: 'builds/x/build.log', size: 5 } },
      errorLines: ['init/main.c:1:1: error: expected declaration'],
    });
    const { result, workflowId } = await runBuildBoot({
      build: failing,
      labs: { A: async (r) => (boots++, passedBoot(r)) },
    });
    expect(result.build.status).toBe('fail');
    expect(result.boots).toEqual([]);
    expect(boots).toBe(0);
    expect(await bootRows(workflowId)).toEqual([]);
    const [row] = await db.sql`select status, errors, error_lines from builds where workflow_id = ${workflowId}`;
    expect(row).toEqual({ status: 'fail', errors: 1, error_lines: ['init/main.c:1:1: error: expected declaration'] });
  });

  it('retries a build that hits infrastructure errors, and records infra-error (not fail) when it never completes', async () => {
    let attempts = 0;
    const { result, workflowId } = await runBuildBoot({
      build: async () => {
        attempts++;
        throw new Error('No space left on device');
      },
      labs: { A: async (r) => passedBoot(r) },
    });
    expect(attempts).toBe(4);
    expect(result.build).toMatchObject({
      status: 'infra-error',
      message: expect.stringMatching(/No space left on device/),
    });
    expect(result.boots).toEqual([]);
    const [row] = await db.sql`select status from builds where workflow_id = ${workflowId}`;
    expect(row.status).toBe('infra-error');
  });
});
