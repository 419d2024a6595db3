/**
 * What the bisect workflow tests share: the time-skipping server, a fresh
 * database, the workflow bundle with the stand-in buildBoot child
 * (stubs/workflows.ts), the artifact store, outbox and mirrors, fixture
 * histories made once per file, and `runBisect`, which runs one bisection
 * with the real bisection activities and a fixture lab (fixtureLab.ts).
 * Registers its own beforeAll/afterAll.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { simpleParser } from 'mailparser';
import { createBisectActivities } from '../../../activities/bisect';
import { createWorkflowLookupActivities } from '../../../activities/pipeline/workflowLookup';
import { DirStore } from '../../../plumbing/store/dirStore';
import type { FixtureRepo } from '../../../fixtures/generator';
import { parseConfig } from '../../../plumbing/loadConfig';
import type { BisectActivities, BisectInput, BisectResult } from '../../../domain/bisect';
import { timeSkippingEnv } from '../../workflows/workers';
import { freshDatabase, uniqueId, type TestDatabase } from '../../harness/services';
import { keepHistory } from '../../replay/record';
import { fixtureLab, fixtureOracle } from './fixtureLab';
import { gitBisectRun } from './gitBisectRun';
import { testConfigYaml } from '../../support/testConfig';
import type { bisect } from '../stubs/workflows';

const cfg = parseConfig(testConfigYaml());
export const config = cfg.buildConfigs[0];
export const target = { platform: cfg.platforms[0], lab: cfg.labs[0] };
export const report = { to: ['list@lists.example.org'], cc: [], from: 'Bootfarm <bot@example.org>', textOnly: true };
export const ann = { name: 'Ann Developer', email: 'ann@example.org' };
export const culpritSpec = (subject: string) => ({
  subject,
  effect: 'break-boot' as const,
  author: ann,
  trailers: [`Signed-off-by: ${ann.name} <${ann.email}>`, 'Reviewed-by: Rob <rob@example.org>'],
});

export interface Run {
  result: BisectResult;
  workflowId: string;
  calls: ReturnType<typeof fixtureLab>['calls'];
}

export interface RunOptions {
  /** the fixture lab: interference with boots and builds */
  lab?: Omit<Parameters<typeof fixtureLab>[0], 'mirror' | 'store'>;
  /** activities replaced, e.g. to make one fail */
  replace?: Partial<BisectActivities>;
  /** keep the run's history for the replay test under this name (when recording) */
  keep?: string;
  /** change the fixture lab's activities before the worker starts */
  adapt?: (lab: ReturnType<typeof fixtureLab>) => void;
}

export function bisectTestBed<H>(makeHistories: (root: string) => Promise<H>) {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let root: string;
  let bundle: WorkflowBundleWithSourceMap;
  let histories: H;

  beforeAll(async () => {
    [env, db, bundle, histories] = await Promise.all([
      timeSkippingEnv(),
      freshDatabase(),
      bundleWorkflowCode({
        workflowsPath: require.resolve('../stubs/workflows'),
        logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} },
      }),
      mkdtemp(join(tmpdir(), 'bf-bisect-wf-')).then((dir) => {
        root = dir;
        return makeHistories(dir);
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([env?.teardown(), db?.drop()]);
    await rm(root, { recursive: true, force: true });
  });

  const store = () => new DirStore(join(root, 'artifacts'));
  const outbox = () => join(root, 'outbox');
  const mirrorDir = () => join(root, 'mirrors');

  function worker(taskQueue: string, lab: ReturnType<typeof fixtureLab>, replace: Partial<BisectActivities> = {}) {
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: {
        ...createBisectActivities({
          sql: db.sql,
          mirrorDir: mirrorDir(),
          store: store(),
          outboxDir: outbox(),
          dashboardUrl: 'http://dash.example',
        }),
        ...createWorkflowLookupActivities({ client: env.client }),
        ...lab.activities,
        ...replace,
      },
    });
  }

  const newLab = (tree: string, opts: RunOptions['lab'] = {}) =>
    fixtureLab({ mirror: join(mirrorDir(), `${tree}.git`), store: store(), ...opts });

  const newWorkflowId = (tree: string, bad: string) =>
    `bisect:${tree}:${bad.slice(0, 12)}:${config.name}:${target.platform.name}:${uniqueId('')}`;

  /** Runs one bisection of `tree` (a fixture repo) with its own worker; returns its result and the lab's calls. */
  async function runBisect(
    tree: string,
    repo: FixtureRepo,
    input: Partial<BisectInput> & Pick<BisectInput, 'good' | 'bad'>,
    opts: RunOptions = {},
  ): Promise<Run> {
    const lab = newLab(tree, opts.lab);
    opts.adapt?.(lab);
    const taskQueue = uniqueId('bisect-');
    const workflowId = newWorkflowId(tree, input.bad);
    const w = await worker(taskQueue, lab, opts.replace);
    const result = await w.runUntil(
      env.client.workflow.execute<typeof bisect>('bisect', {
        taskQueue,
        workflowId,
        args: [{ tree, url: repo.url, config, target, ...input }],
      }),
    );
    if (opts.keep) await keepHistory(opts.keep, env.client.workflow.getHandle(workflowId));
    return { result, workflowId, calls: lab.calls };
  }

  async function mailTo(messageId: string) {
    const name = (await readdir(outbox())).find((f) =>
      f.startsWith(messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._+@-]/g, '_')),
    )!;
    const mail = await simpleParser(await readFile(join(outbox(), name)));
    const list = (a: typeof mail.to) =>
      (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
    return { mail, to: list(mail.to), cc: list(mail.cc) };
  }

  return {
    histories: () => histories,
    env: () => env,
    db: () => db,
    mirrorDir,
    store,
    worker,
    newLab,
    newWorkflowId,
    runBisect,
    mailTo,
  };
}

/** Steps `git bisect run` needs on the same range, answering as the fixture kernel would (build failure = skip). */
export async function gitSteps(repo: FixtureRepo, good: string, bad: string) {
  const oracle = await fixtureOracle(repo.dir, good, bad);
  return gitBisectRun(repo.dir, { good: [good], bad, ...oracle });
}
