/**
 * A bisection's account of itself (the `bisectProgress` query the dashboard
 * and `bootfarm status` ask): asked from inside each of its build-boots, it
 * goes endpoints → search rounds with fewer commits left each time → its
 * checks (verify and revert, at once), and says `done` at the end, with the
 * boots it ran. Time-skipping server, a real
 * fixture history, the real bisection activities, a stand-in build-boot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createBisectActivities } from '../../activities/bisect';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import { DirStore } from '../../plumbing/store/dirStore';
import { linearHistory } from '../../fixtures/generator';
import { parseConfig } from '../../plumbing/loadConfig';
import { BISECT_PROGRESS_QUERY, roundsLeft, type BisectionProgress } from '../../domain/progress';
import { bisectionProgressFor } from '../../dashboard/data/progress';
import { timeSkippingEnv } from '../workflows/workers';
import { freshDatabase, uniqueId, type TestDatabase } from '../harness/services';
import { fixtureLab } from '../bisect/support/fixtureLab';
import { testConfigYaml } from '../support/testConfig';
import type { bisect } from '../bisect/stubs/workflows';

const cfg = parseConfig(testConfigYaml());

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-progress-'));
  [env, db] = await Promise.all([timeSkippingEnv(), freshDatabase()]);
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
  await rm(root, { recursive: true, force: true });
});

describe('a bisection answers where it is', () => {
  it('endpoints, then rounds with fewer commits left, then its checks, then done', async () => {
    const { repo, shas } = await linearHistory(join(root, 'line'), 12, {
      10: { subject: 'x86: fixture: widget panics at boot', effect: 'break-boot' },
    });
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../bisect/stubs/workflows'),
      logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} },
    });
    const store = new DirStore(join(root, 'artifacts'));
    const lab = fixtureLab({ mirror: join(root, 'mirrors', 'line.git'), store });
    const taskQueue = uniqueId('bisect-');
    const workflowId = `bisect:line:${shas[12]}:${uniqueId('')}`;
    const seen: { child: string; progress: BisectionProgress }[] = [];
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      maxConcurrentWorkflowTaskExecutions: 4,
      activities: {
        ...createBisectActivities({
          sql: db.sql,
          mirrorDir: join(root, 'mirrors'),
          store,
          outboxDir: join(root, 'outbox'),
          dashboardUrl: 'http://dash.example',
        }),
        ...createWorkflowLookupActivities({ client: env.client }),
        // Each build-boot first asks the bisection where it is, as the dashboard would.
        async stubBuildBoot(req: Parameters<typeof lab.activities.stubBuildBoot>[0]) {
          const progress = await env.client.workflow
            .getHandle(workflowId)
            .query<BisectionProgress>(BISECT_PROGRESS_QUERY);
          seen.push({ child: req.workflowId, progress });
          return lab.activities.stubBuildBoot(req);
        },
      },
    });
    const { done, shown, result } = await worker.runUntil(async () => {
      const result = await env.client.workflow.execute<typeof bisect>('bisect', {
        taskQueue,
        workflowId,
        args: [
          {
            tree: 'line',
            url: repo.url,
            good: shas[1],
            bad: shas[12],
            config: cfg.buildConfigs[0],
            target: { platform: cfg.platforms[0], lab: cfg.labs[0] },
            parallel: 1,
            verifyRuns: 2,
          },
        ],
      });
      expect(result.verdict.culprit?.sha).toBe(shas[10]);
      return {
        result,
        done: await env.client.workflow.getHandle(workflowId).query<BisectionProgress>(BISECT_PROGRESS_QUERY),
        shown: await bisectionProgressFor(env.client, workflowId),
      };
    });

    const phases = seen.map((s) => s.progress.phase);
    expect([...new Set(phases)]).toEqual(['endpoints', 'search', 'checks']);
    expect(seen.filter((s) => s.child.includes(':step:')).length).toBe(phases.filter((p) => p !== 'checks').length);
    // verify and revert boot at once, each asking while the other may be running
    const checkChildren = seen.filter((s) => s.progress.phase === 'checks').map((s) => s.child.split(':').at(-3));
    expect(checkChildren.sort()).toEqual(['revert', 'verify']);
    for (const s of seen.filter((x) => x.progress.phase === 'checks')) expect(s.progress.roundsLeft).toBe(0);
    const rounds = seen.filter((s) => s.progress.phase === 'search').map((s) => s.progress);
    expect(rounds.map((r) => r.round)).toEqual(rounds.map((_, i) => i)); // asked as each round's candidate is built
    for (let i = 1; i < rounds.length; i++) {
      expect(rounds[i].remaining as number).toBeLessThan(rounds[i - 1].remaining as number);
      expect(rounds[i].tested).toBe(rounds[i - 1].tested + 1);
    }
    expect(rounds[0].tested).toBe(2); // the endpoints
    for (const r of rounds) expect(r.boots).toBe(r.tested); // a clean board: one boot a commit
    for (const r of rounds) expect(r.roundsLeft).toBe(roundsLeft(r.remaining as number, 1));
    expect(rounds[0].remaining).toBe(11); // good..bad holds 11 commits, bad included
    expect(done).toMatchObject({ phase: 'done', roundsLeft: 0, boots: result.boots });
    expect(done.boots).toBe(done.tested + 2 + 2); // every commit once, then verify and revert 2 boots each
    expect(shown.progress).toEqual(done);
    expect(shown.text).toBe(`done, ${done.remaining} commit(s) left, ${done.tested} tested in ${done.boots} boot(s)`);
  });
});
