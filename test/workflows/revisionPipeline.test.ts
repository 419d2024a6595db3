/**
 * revisionPipeline's own logic under time skipping: fan-out with a bounded
 * number of children, a child that dies not losing the others' results, a
 * revision that cannot be resolved, a build already run for another branch.
 * git, builds and boots are stand-ins; recording is real (PostgreSQL), and
 * so is waiting for another run's result (through the test server's client).
 */
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { revisionPipeline } from '../../workflows/revisionPipeline';
import { buildBootWorkflowId, type RevisionPipelineInput } from '../../domain/pipelineSpec';
import { createResultActivities } from '../../activities/pipeline/records';
import { createProgressActivities } from '../../activities/pipeline/progress';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import { SA } from '../../domain/searchAttributes';
import type { BuildRequest, BuildResult, RevisionInfo } from '../../domain/types';
import { freshDatabase, uniqueId, type TestDatabase } from '../harness/services';
import {
  afterBuildActivities,
  boardWorkers,
  passedBoot,
  passedBuild,
  pipelineInput,
  SHA,
  testConfig,
} from './pipelineFixtures';
import { timeSkippingEnv, withWorkers } from './workers';

let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  [env, db] = await Promise.all([timeSkippingEnv(), freshDatabase()]);
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
});

const revision = (req: { tree: string; branch: string; url: string; ref?: string }): RevisionInfo => ({
  tree: req.tree,
  branch: req.branch,
  url: req.url,
  sha: req.ref ?? SHA,
  describe: 'v6.1-rc1-3-gabcdef012345',
  subject: 'mm: fix the thing',
  author: 'A. Developer',
  authorEmail: 'dev@example.org',
  committedAt: '2026-11-01T10:00:00Z',
});

interface Setup {
  configs?: number;
  concurrency?: number;
  build?: (req: BuildRequest) => Promise<BuildResult>;
  resolve?: typeof revision;
  /** make recording this config's build fail with this error */
  failRecordFor?: string;
  failRecord?: (config: string) => Error;
  /** told of every check before dispatch (`lab/platform`) */
  onLabCheck?: (board: string) => void;
}

function records(setup: Setup) {
  const real = createResultActivities({ sql: db.sql });
  return {
    ...real,
    async recordBuild(rec: Parameters<typeof real.recordBuild>[0]) {
      if (rec.config.name === setup.failRecordFor) throw setup.failRecord!(rec.config.name);
      return real.recordBuild(rec);
    },
  };
}

/** Workers for one pipeline test: its own tree, labs and queues. Both labs have workers that pass every boot. */
async function pipelineTest<T>(
  setup: Setup,
  fn: (input: RevisionPipelineInput, taskQueue: string) => Promise<T>,
): Promise<T> {
  const prefix = `${uniqueId('q')}-`;
  const labs: [string, string] = [uniqueId('la'), uniqueId('lb')];
  const cfg = testConfig({ tree: uniqueId('t'), labs, configs: setup.configs ?? 3, concurrency: setup.concurrency });
  const input = pipelineInput(cfg, prefix);
  const taskQueue = `${prefix}bootfarm`;
  const bootKernel = async (r: Parameters<typeof passedBoot>[0]) => passedBoot(r);
  return withWorkers(
    env,
    [
      {
        taskQueue,
        workflows: true,
        activities: {
          ...records(setup),
          ...createProgressActivities({ sql: db.sql }),
          ...afterBuildActivities(db.sql),
          ...createWorkflowLookupActivities({ client: env.client }),
          labHasPollers: async ({ lab, platform }: { lab: string; platform: string }) => (
            setup.onLabCheck?.(`${lab}/${platform}`),
            true
          ),
          resolveRevision: async (req: Parameters<typeof revision>[0]) => (setup.resolve ?? revision)(req),
        },
      },
      {
        taskQueue: `${prefix}build`,
        activities: { buildKernel: setup.build ?? (async (req: BuildRequest) => passedBuild(req)) },
        maxConcurrentActivityTaskExecutions: 50,
      },
      ...labs.flatMap((lab) => boardWorkers(cfg, prefix, lab, bootKernel)),
    ],
    () => fn(input, taskQueue),
  );
}

describe('revisionPipeline', () => {
  it('builds every config, boots every build on every lab that has the platform, records and reports it all', async () => {
    const labsAsked: string[] = [];
    await pipelineTest({ configs: 3, onLabCheck: (lab) => labsAsked.push(lab) }, async (input, taskQueue) => {
      const handle = await env.client.workflow.start(revisionPipeline, {
        taskQueue,
        workflowId: uniqueId('rev-'),
        args: [input],
      });
      const report = await handle.result();
      expect(report.result).toBe('pass');
      expect(report.describe).toBe('v6.1-rc1-3-gabcdef012345');
      // 3 configs × (qemu-x86_64 on both labs + pc-x86_64 on lab A); the arm64 platform has no x86_64 build
      expect(report.counts.builds).toEqual({ total: 3, pass: 3, fail: 0, infraError: 0, warnings: 6, errors: 0 });
      expect(report.counts.boots).toEqual({ total: 9, pass: 9, fail: 0, infraError: 0, offline: 0, skip: 0 });
      expect(report.builds.every((b) => typeof b.buildId === 'number')).toBe(true);
      const [rev] =
        await db.sql`select status, result, summary, describe, workflow_id from revisions where tree = ${input.tree}`;
      expect(rev).toMatchObject({
        status: 'done',
        result: 'pass',
        describe: report.describe,
        workflow_id: handle.workflowId,
      });
      expect(rev.summary).toEqual(report.counts);
      const [{ n }] = await db.sql`select count(*)::int as n from boots where tree = ${input.tree}`;
      expect(n).toBe(9);
      // each build carries its search attributes: set by the revision at start, the result by the build itself
      const config = input.buildConfigs[0].name;
      const child = await env.client.workflow.getHandle(buildBootWorkflowId(input, config)).describe();
      const csa = child.typedSearchAttributes;
      expect([csa.get(SA.kind), csa.get(SA.config), csa.get(SA.tree), csa.get(SA.result)]).toEqual([
        'build',
        config,
        input.tree,
        'pass',
      ]);
      // the revision asked about each platform of each lab once; its builds, booting within the labs' grace, trusted that
      expect(labsAsked.sort()).toEqual(input.labs.flatMap((l) => l.platforms.map((p) => `${l.name}/${p}`)).sort());
      const sa = (await handle.describe()).typedSearchAttributes;
      expect([sa.get(SA.kind), sa.get(SA.result), sa.get(SA.tree), sa.get(SA.commit)]).toEqual([
        'revision',
        'pass',
        input.tree,
        SHA,
      ]);
    });
  });

  it('keeps the other configs’ results when one buildBoot child fails, and records that config as infra-error', async () => {
    // The child for cfg1 cannot record its build (a database error retrying cannot fix), so the child fails as a whole.
    const failRecord = (config: string) =>
      ApplicationFailure.create({
        type: 'BfInvalidInput',
        message: `constraint violated recording ${config}`,
        nonRetryable: true,
      });
    await pipelineTest({ configs: 3, failRecordFor: 'x86_64-cfg1', failRecord }, async (input, taskQueue) => {
      const report = await env.client.workflow.execute(revisionPipeline, {
        taskQueue,
        workflowId: uniqueId('rev-'),
        args: [input],
      });
      expect(report.result).toBe('infra-error');
      const byConfig = Object.fromEntries(report.builds.map((b) => [b.config, b]));
      expect(byConfig['x86_64-cfg1']).toMatchObject({
        status: 'infra-error',
        message: expect.stringMatching(/constraint violated recording x86_64-cfg1/),
      });
      expect(byConfig['x86_64-cfg0'].status).toBe('pass');
      expect(byConfig['x86_64-cfg2'].status).toBe('pass');
      expect(report.boots.filter((b) => b.status === 'pass')).toHaveLength(6);
      const rows = await db.sql`select config, status from builds where tree = ${input.tree} order by config`;
      expect(rows.map((r) => `${r.config}:${r.status}`)).toEqual([
        'x86_64-cfg0:pass',
        'x86_64-cfg1:infra-error',
        'x86_64-cfg2:pass',
      ]);
      const [rev] = await db.sql`select result from revisions where tree = ${input.tree}`;
      expect(rev.result).toBe('infra-error');
    });
  });

  it('runs at most `concurrency` buildBoot children at once and still builds every config', async () => {
    let running = 0;
    let peak = 0;
    const build = async (req: BuildRequest): Promise<BuildResult> => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 300));
      running--;
      return req.config.name === 'x86_64-cfg3'
        ? { ...passedBuild(req), status: 'fail', errors: 3, artifacts: {} }
        : passedBuild(req);
    };
    await pipelineTest({ configs: 6, concurrency: 2, build }, async (input, taskQueue) => {
      const report = await env.client.workflow.execute(revisionPipeline, {
        taskQueue,
        workflowId: uniqueId('rev-'),
        args: [input],
      });
      expect(peak).toBe(2);
      expect(report.builds.map((b) => b.config)).toEqual(input.buildConfigs.map((c) => c.name));
      expect(report.counts.builds).toMatchObject({ total: 6, pass: 5, fail: 1, errors: 3 });
      expect(report.result).toBe('fail'); // the kernel failed somewhere
    });
  });

  it('records a revision that cannot be resolved as an error of that revision and fails the run', async () => {
    const resolve = () => {
      throw ApplicationFailure.create({
        type: 'BfUnknownRevision',
        message: 'no commit 0badc0de in the tree',
        nonRetryable: true,
      });
    };
    await pipelineTest({ resolve }, async (input, taskQueue) => {
      const run = env.client.workflow.execute(revisionPipeline, {
        taskQueue,
        workflowId: uniqueId('rev-'),
        args: [{ ...input, sha: '0badc0de' }],
      });
      const err = await run.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('BfRevisionUnresolved');
      const [rev] = await db.sql`select status, result, message from revisions where tree = ${input.tree}`;
      expect(rev).toMatchObject({
        status: 'error',
        result: 'infra-error',
        message: expect.stringMatching(/no commit 0badc0de/),
      });
      const [{ n }] = await db.sql`select count(*)::int as n from builds where tree = ${input.tree}`;
      expect(n).toBe(0);
    });
  });

  it('reuses the builds of a commit already tested on another branch instead of building it again', async () => {
    let builds = 0;
    const build = async (req: BuildRequest) => (builds++, passedBuild(req));
    await pipelineTest({ configs: 2, build }, async (input, taskQueue) => {
      const first = await env.client.workflow.execute(revisionPipeline, {
        taskQueue,
        workflowId: uniqueId('rev-'),
        args: [input],
      });
      const other = { ...input, branch: 'for-next' };
      const second = await env.client.workflow.execute(revisionPipeline, {
        taskQueue,
        workflowId: uniqueId('rev-'),
        args: [other],
      });
      expect(builds).toBe(2);
      expect(second.branch).toBe('for-next');
      expect(second.builds).toEqual(first.builds);
      expect(second.counts).toEqual(first.counts);
      const revs = await db.sql`select branch, result from revisions where tree = ${input.tree} order by branch`;
      expect(revs.map((r) => `${r.branch}:${r.result}`)).toEqual(['for-next:pass', 'master:pass']);
    });
  });
});
