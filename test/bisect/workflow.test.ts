/**
 * The bisect workflow's own logic on the time-skipping server: real fixture
 * histories with a known culprit, the real bisection activities (git mirror,
 * PostgreSQL, outbox mailer), and a stand-in buildBoot child that answers as
 * the fixture kernel would (test/bisect/stubs, support/fixtureLab).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { simpleParser } from 'mailparser';
import { createBisectActivities } from '../../activities/bisect';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import { DirStore } from '../../plumbing/store/dirStore';
import { runOk } from '../../plumbing/git/command';
import {
  commitChange,
  createBranch,
  linearHistory,
  mergeBranch,
  createFixtureRepo,
  headSha,
  type FixtureRepo,
} from '../../fixtures/generator';
import { parseConfig } from '../../plumbing/loadConfig';
import type { BisectActivities, BisectInput, BisectResult } from '../../domain/bisect';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { WorkflowFailedError } from '@temporalio/client';
import { SA } from '../../domain/searchAttributes';
import { timeSkippingEnv } from '../workflows/workers';
import { freshDatabase, uniqueId, type TestDatabase } from '../harness/services';
import { fixtureLab, fixtureOracle, type Interference } from './support/fixtureLab';
import { gitBisectRun } from './support/gitBisectRun';
import type { bisect } from './stubs/workflows';

const cfg = parseConfig(`
trees:
  - { name: demo, url: /srv/git/demo.git, branches: [master], buildConfigs: [x86_64-defconfig] }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64 }
labs:
  - { name: local, adapter: qemu, platforms: [qemu-x86_64] }
`);
const config = cfg.buildConfigs[0];
const target = { platform: cfg.platforms[0], lab: cfg.labs[0] };
const report = { to: ['list@lists.example.org'], cc: [], from: 'Bootfarm <bot@example.org>', textOnly: true };
const ann = { name: 'Ann Developer', email: 'ann@example.org' };
const culpritSpec = (subject: string) => ({
  subject,
  effect: 'break-boot' as const,
  author: ann,
  trailers: [`Signed-off-by: ${ann.name} <${ann.email}>`, 'Reviewed-by: Rob <rob@example.org>'],
});

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let root: string;
let bundle: WorkflowBundleWithSourceMap;
let store: DirStore;
let outbox: string;
let mirrorDir: string;

/** Fixture histories, made once for the file (the generator takes ~0.4 s a commit). */
interface Histories {
  /** 12 commits on a line, the 10th panics at boot */
  line: { repo: FixtureRepo; shas: string[] };
  merges: { repo: FixtureRepo; base: string; culprit: string; bad: string };
  broken: { repo: FixtureRepo; shas: string[] };
  ambiguous: { repo: FixtureRepo; shas: string[] };
}
let h: Histories;

async function mergesHistory(dir: string): Promise<Histories['merges']> {
  const repo = await createFixtureRepo(dir);
  const base = await headSha(repo);
  const m1 = await commitChange(repo, { subject: 'mainline: one' });
  await createBranch(repo, 'early', m1);
  for (const s of ['early: a', 'early: b', 'early: c']) await commitChange(repo, { subject: s }, { branch: 'early' });
  await commitChange(repo, { subject: 'mainline: two' });
  await mergeBranch(repo, { into: 'master', from: 'early' });
  await createBranch(repo, 'topic', m1);
  await commitChange(repo, { subject: 'topic: prepare' }, { branch: 'topic' });
  const culprit = await commitChange(repo, culpritSpec('topic: widget panics at boot'), { branch: 'topic' });
  await commitChange(repo, { subject: 'topic: follow-up' }, { branch: 'topic' });
  await createBranch(repo, 'late', m1);
  for (const s of ['late: a', 'late: b', 'late: c', 'late: d'])
    await commitChange(repo, { subject: s }, { branch: 'late' });
  await commitChange(repo, { subject: 'mainline: three' });
  await mergeBranch(repo, { into: 'master', from: 'topic' });
  await mergeBranch(repo, { into: 'master', from: 'late' });
  const bad = await commitChange(repo, { subject: 'mainline: four' });
  return { repo, base, culprit, bad };
}

async function makeHistories(): Promise<Histories> {
  const [line, merges, broken, ambiguous] = await Promise.all([
    linearHistory(join(root, 'line'), 12, { 10: culpritSpec('x86: fixture: widget panics at boot') }),
    mergesHistory(join(root, 'merges')),
    linearHistory(join(root, 'broken'), 16, {
      4: { subject: 'fixture: break the build', effect: 'break-build' },
      6: { subject: 'fixture: fix the build', effect: 'fix-build' },
      8: culpritSpec('fixture: widget panics at boot'),
      9: { subject: 'fixture: break the build again', effect: 'break-build' },
      11: { subject: 'fixture: fix the build again', effect: 'fix-build' },
    }),
    linearHistory(join(root, 'ambiguous'), 8, {
      3: { subject: 'fixture: break the build', effect: 'break-build' },
      5: culpritSpec('fixture: widget panics at boot'),
      6: { subject: 'fixture: fix the build', effect: 'fix-build' },
    }),
  ]);
  return { line, merges, broken, ambiguous };
}

beforeAll(async () => {
  [env, db, bundle, h] = await Promise.all([
    timeSkippingEnv(),
    freshDatabase(),
    bundleWorkflowCode({
      workflowsPath: require.resolve('./stubs/workflows'),
      logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} },
    }),
    mkdtemp(join(tmpdir(), 'bf-bisect-wf-')).then((dir) => {
      root = dir;
      return makeHistories();
    }),
  ]);
  store = new DirStore(join(root, 'artifacts'));
  outbox = join(root, 'outbox');
  mirrorDir = join(root, 'mirrors');
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
  await rm(root, { recursive: true, force: true });
});

interface Run {
  result: BisectResult;
  workflowId: string;
  calls: ReturnType<typeof fixtureLab>['calls'];
}

/** Runs one bisection of `tree` (a fixture repo) with its own worker; returns its result and the stand-in's calls. */
async function runBisect(
  tree: string,
  repo: FixtureRepo,
  input: Partial<BisectInput> & Pick<BisectInput, 'good' | 'bad'>,
  interfere?: Interference,
  replace: Partial<BisectActivities> = {},
): Promise<Run> {
  const lab = fixtureLab({ mirror: join(mirrorDir, `${tree}.git`), store, interfere });
  const taskQueue = uniqueId('bisect-');
  const workflowId = `bisect:${tree}:${input.bad.slice(0, 12)}:${config.name}:${target.platform.name}:${uniqueId('')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: {
      ...createBisectActivities({
        sql: db.sql,
        mirrorDir,
        store,
        outboxDir: outbox,
        dashboardUrl: 'http://dash.example',
      }),
      ...createWorkflowLookupActivities({ client: env.client }),
      ...lab.activities,
      ...replace,
    },
  });
  const result = await worker.runUntil(
    env.client.workflow.execute<typeof bisect>('bisect', {
      taskQueue,
      workflowId,
      args: [{ tree, url: repo.url, config, target, ...input }],
    }),
  );
  return { result, workflowId, calls: lab.calls };
}

async function mailTo(messageId: string) {
  const name = (await readdir(outbox)).find((f) =>
    f.startsWith(messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._+@-]/g, '_')),
  )!;
  const mail = await simpleParser(await readFile(join(outbox, name)));
  const list = (a: typeof mail.to) =>
    (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
  return { mail, to: list(mail.to), cc: list(mail.cc) };
}

/** Steps `git bisect run` needs on the same range, answering as the fixture kernel would (build failure = skip). */
async function gitSteps(repo: FixtureRepo, good: string, bad: string) {
  const oracle = await fixtureOracle(repo.dir, good, bad);
  return gitBisectRun(repo.dir, { good: [good], bad, ...oracle });
}

describe('bisect', () => {
  /** the first commit git bisect would test on the line */
  const firstPick = async () =>
    (
      await runOk('git', ['-C', h.line.repo.dir, 'rev-list', '--bisect', h.line.shas[12], `^${h.line.shas[1]}`])
    ).stdout.trim();

  it('finds the culprit of a linear history with the steps git bisect run takes, verifies and reverts it, records it and mails its author', async () => {
    const { repo, shas } = h.line;
    const { result, workflowId, calls } = await runBisect('line', repo, {
      good: shas[1],
      bad: shas[12],
      report,
      parallel: 1,
    });
    expect(result.verdict).toMatchObject({
      status: 'found',
      confirmed: true,
      culprit: { sha: shas[10], subject: 'x86: fixture: widget panics at boot' },
    });
    expect(result.verdict.checks.map((c) => `${c.name}:${c.outcome}`)).toEqual([
      'endpoints:passed',
      'verify:passed',
      'revert:passed',
    ]);
    const git = await gitSteps(repo, shas[1], shas[12]);
    expect(git.culprit).toBe(shas[10]);
    expect(result.steps.filter((s) => s.role === 'candidate').map((s) => s.sha)).toEqual(git.tested);
    expect(result.searchSteps).toBe(git.tested.length);

    // children: 2 endpoints, the search steps, one verify and one revert series of 3 boots each
    expect(calls.filter((c) => c.workflowId.includes(':step:'))).toHaveLength(2 + result.searchSteps);
    expect(calls.filter((c) => c.workflowId === `${workflowId}:verify:1`)).toEqual([
      { workflowId: `${workflowId}:verify:1`, sha: shas[10], runs: 3 },
    ]);
    const revertCall = calls.find((c) => c.workflowId === `${workflowId}:revert:1`)!;
    expect(revertCall.runs).toBe(3);
    expect(
      (
        await runOk('git', [
          '-C',
          join(mirrorDir, 'line.git'),
          'rev-parse',
          `refs/bootfarm/revert/${shas[12].slice(0, 12)}-${shas[10].slice(0, 12)}`,
        ])
      ).stdout.trim(),
    ).toBe(revertCall.sha);

    const [row] =
      await db.sql`select id, status, culprit_sha, bisect_log, jsonb_array_length(steps) as steps from bisections where workflow_id = ${workflowId}`;
    expect(row).toMatchObject({ status: 'found', culprit_sha: shas[10], steps: 2 + result.searchSteps });
    expect(Number(row.id)).toBe(result.bisectionId);
    expect(row.bisect_log).toBe(result.bisectLog);
    expect(result.bisectLog).toContain(`# first bad commit: [${shas[10]}] x86: fixture: widget panics at boot`);

    const { to, cc, mail } = await mailTo(result.reportMessageId!);
    expect(to).toEqual(['ann@example.org', 'rob@example.org']);
    expect(cc).toEqual(['list@lists.example.org']);
    expect(mail.text).toContain('Kernel panic - not syncing: fixture: boom');

    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.typedSearchAttributes.get(SA.kind)).toBe('bisect');
    expect(desc.typedSearchAttributes.get(SA.result)).toBe('found');
    expect(desc.typedSearchAttributes.get(SA.commit)).toBe(shas[12]);
  });

  it('finds a culprit on a topic branch with merges on both sides, testing k commits per round', async () => {
    const { repo, base, culprit, bad } = h.merges;
    const { result } = await runBisect('merges', repo, { good: base, bad, parallel: 3 });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: culprit } });
    const git = await gitSteps(repo, base, bad);
    expect(git.culprit).toBe(culprit);
    expect(result.rounds).toBeLessThan(git.tested.length);
    const perRound = new Map<number, number>();
    for (const s of result.steps.filter((x) => x.role === 'candidate'))
      perRound.set(s.round, (perRound.get(s.round) ?? 0) + 1);
    expect(Math.max(...perRound.values())).toBe(3);
  });

  it('skips commits that do not build and finds the culprit between broken stretches, in no more steps than git bisect run', async () => {
    const { repo, shas } = h.broken;
    const { result } = await runBisect('broken', repo, { good: shas[1], bad: shas[16] });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[8] } });
    const skipped = result.steps.filter((s) => s.verdict === 'skip');
    expect(skipped.length).toBeGreaterThan(0);
    for (const s of skipped) {
      expect([shas[4], shas[5], shas[9], shas[10]]).toContain(s.sha);
      expect(s).toMatchObject({ build: 'fail', attempts: 1 });
    }
    expect(result.bisectLog).toContain(`git bisect skip ${skipped[0].sha}`);
    const git = await gitSteps(repo, shas[1], shas[16]);
    expect(git.culprit).toBe(shas[8]);
    expect(result.searchSteps).toBeLessThanOrEqual(git.tested.length);
  });

  it('names every possible culprit, to the list, when the commits right before it do not build', async () => {
    const { repo, shas } = h.ambiguous;
    const { result } = await runBisect('ambiguous', repo, { good: shas[1], bad: shas[8], report });
    const git = await gitSteps(repo, shas[1], shas[8]);
    expect(result.verdict.status).toBe('not-found');
    expect(new Set(result.verdict.suspects)).toEqual(new Set(git.suspects));
    expect(result.verdict.suspects).toContain(shas[5]);
    expect(result.bisectLog).toContain('# only skipped commits left to test');
    const { to } = await mailTo(result.reportMessageId!);
    expect(to).toEqual(['list@lists.example.org']);
  });

  it('retries a step lost to a flaky board and still finds and confirms the culprit', async () => {
    const { repo, shas } = h.line;
    const flaky = await firstPick();
    // the board is offline for the first attempt at that commit
    const { result, calls } = await runBisect('line', repo, { good: shas[1], bad: shas[12] }, ({ sha, workflowId }) =>
      sha === flaky && !workflowId.endsWith(':a2') ? 'offline' : undefined,
    );
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
    const step = result.steps.find((s) => s.sha === flaky)!;
    expect(step).toMatchObject({ attempts: 2, verdict: 'good' });
    expect(step.workflowId).toMatch(/:step:[0-9a-f]{12}:a2$/);
    expect(calls.filter((c) => c.sha === flaky && c.workflowId.includes(':step:'))).toHaveLength(2);
  });

  it('skips a commit whose build-boot is lost on every attempt and searches around it', async () => {
    const { repo, shas } = h.line;
    const lost = await firstPick();
    const { result } = await runBisect('line', repo, { good: shas[1], bad: shas[12] }, ({ sha, workflowId }) =>
      sha === lost && workflowId.includes(':step:') ? 'throw' : undefined,
    );
    expect(result.steps.find((s) => s.sha === lost)).toMatchObject({ verdict: 'skip', attempts: 2, build: 'not-run' });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
  });

  it('reports a culprit as unconfirmed, to the list only, when a flaky board failed a good commit once', async () => {
    const { repo, shas } = h.line;
    const good = await firstPick();
    expect(good).not.toBe(shas[10]);
    const { result } = await runBisect('line', repo, { good: shas[1], bad: shas[12], report }, ({ sha, workflowId }) =>
      sha === good && workflowId.includes(':step:') ? 'fail' : undefined,
    );
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: false });
    expect(result.verdict.culprit!.sha).not.toBe(shas[10]);
    expect(result.verdict.checks.find((c) => c.name === 'verify')).toMatchObject({ outcome: 'failed' });
    const { to, cc, mail } = await mailTo(result.reportMessageId!);
    expect([...to, ...cc]).toEqual(['list@lists.example.org']);
    expect(mail.subject).toContain('[unconfirmed]');
  });

  it("stops with a clear verdict when the endpoints don't reproduce: the good commit fails, or the bad one boots", async () => {
    const { repo, shas } = h.line;
    const goodFails = await runBisect('line', repo, { good: shas[11], bad: shas[12], report });
    expect(goodFails.result.verdict).toMatchObject({ status: 'invalid', confirmed: false });
    expect(goodFails.result.verdict.summary).toMatch(
      new RegExp(`^endpoints don't reproduce: good ${shas[11].slice(0, 12)} failed`),
    );
    expect(goodFails.calls.map((c) => c.sha).sort()).toEqual([shas[11], shas[12]].sort());
    expect(goodFails.result.reportMessageId).toBeUndefined();
    const [row] =
      await db.sql`select status, verdict->>'summary' as summary from bisections where workflow_id = ${goodFails.workflowId}`;
    expect(row).toEqual({ status: 'invalid', summary: goodFails.result.verdict.summary });

    const badBoots = await runBisect('line', repo, { good: shas[1], bad: shas[8] });
    expect(badBoots.result.verdict.summary).toBe(`endpoints don't reproduce: bad ${shas[8].slice(0, 12)} passed`);
    expect(badBoots.calls).toHaveLength(2);
  });

  it('continues as new between rounds with its state carried over, never running a finished step again', async () => {
    const { repo, shas } = h.line;
    const { result, workflowId, calls } = await runBisect('line', repo, {
      good: shas[1],
      bad: shas[12],
      roundsPerRun: 1,
      parallel: 2,
    });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
    expect(result.rounds).toBeGreaterThan(1);
    const handle = env.client.workflow.getHandle(workflowId);
    // the run that returned was started by continue-as-new
    const started = (await handle.fetchHistory()).events![0].workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBeTruthy();
    const ids = calls.map((c) => c.workflowId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.steps.filter((s) => s.role === 'candidate')).toHaveLength(result.searchSteps);
  });

  it('restarted after it was terminated, looks up the steps it finished instead of building them again', async () => {
    const { repo, shas } = h.line;
    const lab = fixtureLab({ mirror: join(mirrorDir, 'line.git'), store });
    // the second search step hangs on the board until the test lets it go
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const stub = lab.activities.stubBuildBoot;
    let heldSha: string | undefined;
    lab.activities.stubBuildBoot = async (req) => {
      const searchSteps = lab.calls.filter((c) => c.workflowId.includes(':step:')).length - 2;
      if (heldSha === undefined && searchSteps === 1 && req.workflowId.includes(':step:')) {
        heldSha = req.input.sha;
        lab.calls.push({ workflowId: req.workflowId, sha: req.input.sha, runs: 1 });
        await held;
        throw new Error('terminated meanwhile');
      }
      return stub(req);
    };
    const taskQueue = uniqueId('bisect-');
    const workflowId = `bisect:line:${shas[12].slice(0, 12)}:${config.name}:qemu-x86_64:${uniqueId('')}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: {
        ...createBisectActivities({
          sql: db.sql,
          mirrorDir,
          store,
          outboxDir: outbox,
          dashboardUrl: 'http://dash.example',
        }),
        ...createWorkflowLookupActivities({ client: env.client }),
        ...lab.activities,
      },
    });
    const args: [BisectInput] = [{ tree: 'line', url: repo.url, config, target, good: shas[1], bad: shas[12] }];
    const result = await worker.runUntil(async () => {
      const first = await env.client.workflow.start<typeof bisect>('bisect', { taskQueue, workflowId, args });
      while (heldSha === undefined) await new Promise((r) => setTimeout(r, 100));
      await first.terminate('a crash, for the test');
      release();
      const again = await env.client.workflow.start<typeof bisect>('bisect', { taskQueue, workflowId, args });
      return again.result();
    });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
    const count = (id: string) => lab.calls.filter((c) => c.workflowId === id).length;
    const stepIds = result.steps.map((s) => s.workflowId);
    // endpoints and the first search step ran once; the step cut short by the crash ran again
    for (const id of stepIds.slice(0, 3)) expect(count(id)).toBe(1);
    expect(count(result.steps.find((s) => s.sha === heldSha)!.workflowId)).toBe(2);
  });

  it('fails visibly and records an error verdict when the commit graph cannot be read', async () => {
    const { repo, shas } = h.line;
    const broken: Partial<BisectActivities> = {
      async bisectCandidates() {
        throw nonRetryable(ErrorType.repositoryUnavailable, 'the mirror is gone');
      },
    };
    await expect(runBisect('line', repo, { good: shas[1], bad: shas[12] }, undefined, broken)).rejects.toBeInstanceOf(
      WorkflowFailedError,
    );
    // the only bisection of this file that ends in an error
    const [row] = await db.sql`select status, verdict->>'summary' as summary from bisections where status = 'error'`;
    expect(row).toEqual({ status: 'error', summary: 'bisection failed: the mirror is gone' });
  });
});
