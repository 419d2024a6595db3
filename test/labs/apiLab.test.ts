/**
 * An API lab runs no worker: its boots wait in lab_jobs, the lab lists them
 * and posts results over the REST API with its token, and that post
 * completes the boot. A job nobody answers becomes offline.
 */
import { parseConfig } from '../../plumbing/loadConfig';
import type { BootTarget, BuildBootInput, BuildBootResult } from '../../domain/types';
import { temporalClient, uniqueId, type TestDatabase } from '../harness/services';
import { startApiLabStack, type ApiLabStack } from './support/apiLabStack';

const TOKEN = 'bfl_api-lab-test-token-0123456789abcdefghijklmnop';

describe('an API lab', () => {
  let stack: ApiLabStack;
  let db: TestDatabase;
  let base: string;
  let taskQueue: string;
  let input: Omit<BuildBootInput, 'targets'>;
  const cleanup: (() => Promise<unknown>)[] = [];

  const target = (bootTimeout: number, scheduleToStartTimeout: number): BootTarget => ({
    platform: parseConfig(
      'platforms:\n  - {name: qemu-x86_64, arch: x86_64}\nlabs:\n  - {name: farm, adapter: api, platforms: [qemu-x86_64]}\n',
    ).platforms[0],
    lab: { name: 'farm', adapter: 'api', scheduleToStartTimeout, bootTimeout, attempts: 3, offlineGrace: 60_000 },
  });

  beforeAll(async () => {
    stack = await startApiLabStack({ tree: 'apitree', token: TOKEN, platform: 'qemu-x86_64' });
    ({ db, base, taskQueue, input } = stack);
  });
  afterAll(async () => {
    for (const c of cleanup) await c();
    await stack?.close();
  });

  /** Starts the build-boot; `done` resolves with its result (not awaited here: the lab must answer first). */
  async function start(t: BootTarget): Promise<{ done: Promise<BuildBootResult> }> {
    const { client, close } = await temporalClient();
    cleanup.unshift(close);
    const handle = await client.workflow.start('buildBoot', {
      taskQueue,
      workflowId: uniqueId('api-build-'),
      args: [{ ...input, targets: [t] }],
    });
    return { done: handle.result() as Promise<BuildBootResult> };
  }

  it("waits for the lab's post, which completes the boot with the lab's verdict and log", async () => {
    const { done } = await start(target(60_000, 60_000));
    const auth = { authorization: `Bearer ${TOKEN}` };
    let jobs: { id: number; status: string }[] = [];
    for (let i = 0; i < 240 && !jobs.length; i++) {
      jobs =
        (
          (await (await fetch(`${base}/api/labs/farm/jobs`, { headers: auth })).json()) as {
            items: { id: number; status: string }[];
          }
        ).items ?? [];
      if (!jobs.length) await new Promise((r) => setTimeout(r, 250));
    }
    expect(jobs).toHaveLength(1);
    const post = await fetch(`${base}/api/labs/farm/jobs/${jobs[0].id}/result`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'fail', log: 'Kernel panic - not syncing: board says no\n', durationMs: 1234 }),
    });
    expect(post.status).toBe(200);
    const { boots } = await done;
    expect(boots).toEqual([expect.objectContaining({ status: 'fail', lab: 'farm', platform: 'qemu-x86_64' })]);
    const [row] = await db.sql`select status, lab from boots where tree = 'apitree'`;
    expect(row).toEqual({ status: 'fail', lab: 'farm' });
  });

  it('records a job that the lab never answers as offline, not as a kernel failure', async () => {
    await db.sql`delete from boots`;
    await db.sql`delete from builds`;
    const { boots } = await (await start(target(1_000, 1_000))).done;
    expect(boots).toEqual([
      expect.objectContaining({ status: 'offline', message: expect.stringContaining('posted no result in time') }),
    ]);
  }, 120_000);
});
