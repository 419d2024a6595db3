/**
 * Orchestration activities under a heartbeat timeout (git metadata, the
 * bisection's) heartbeat for as long as they run, and only then: a
 * completion lost while the Temporal cluster was down is retried within the
 * heartbeat timeout (the deployment suite's fault (e)).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatingWhileRunning } from '../../plumbing/git/heartbeat';
import { orchestratorActivities } from '../../workers/orchestrator';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('heartbeatingWhileRunning', () => {
  it('heartbeats while an activity runs, passes its result and its failure through, and stops when it ends', async () => {
    const activities = heartbeatingWhileRunning(
      {
        async slow(ms: number) {
          await sleep(ms);
          return `slept ${ms}`;
        },
        async broken() {
          await sleep(120);
          throw new Error('git: fatal');
        },
      },
      50,
    );
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    expect(await env.run(activities.slow, 320)).toBe('slept 320');
    // one at the start and one per 50 ms: a dead worker is told apart from a busy one
    expect(beats).toBeGreaterThanOrEqual(4);
    const after = beats;
    await sleep(200);
    expect(beats).toBe(after);
    await expect(env.run(activities.broken)).rejects.toThrow('git: fatal');
    await sleep(200);
    const settled = beats;
    await sleep(150);
    expect(beats).toBe(settled);
  });

  it('wraps the git and bisection activities of the orchestrator, and leaves the local ones (records) alone', async () => {
    const deps = {
      sql: {},
      client: {},
      store: {},
      config: { dataDir: '/nonexistent', email: { outbox: '/nonexistent/outbox' }, dashboard: { port: 1 } },
    } as unknown as Parameters<typeof orchestratorActivities>[0];
    const acts = orchestratorActivities(deps) as unknown as Record<string, () => Promise<unknown>>;
    const beatsOf = async (name: string) => {
      const env = new MockActivityEnvironment();
      let beats = 0;
      env.on('heartbeat', () => beats++);
      // the call fails (no repository, no database): only whether it heartbeated matters
      await env.run(acts[name], { tree: 'x', url: 'not a url' }).catch(() => undefined);
      return beats;
    };
    expect(await beatsOf('bisectRange')).toBeGreaterThan(0);
    expect(await beatsOf('lsRemote')).toBeGreaterThan(0);
    // records run as local activities, which have no heartbeat
    expect(await beatsOf('revisionKnown')).toBe(0);
  });
});
