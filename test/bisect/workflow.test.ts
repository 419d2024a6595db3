/**
 * The bisect workflow's own logic on the time-skipping server, on a clean
 * board: real fixture histories with a known culprit, the real bisection
 * activities (git mirror, PostgreSQL, outbox mailer), and a stand-in
 * buildBoot child that answers as the fixture kernel would
 * (test/bisect/stubs, support/fixtureLab). The defences against a noisy
 * board and history are in noise.test.ts.
 */
import { join } from 'node:path';
import { runOk } from '../../plumbing/git/command';
import {
  commitChange,
  createBranch,
  linearHistory,
  mergeBranch,
  createFixtureRepo,
  headSha,
} from '../../fixtures/generator';
import type { FixtureRepo } from '../../fixtures/generator';
import type { BisectActivities, BisectInput } from '../../domain/bisect';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { WorkflowFailedError } from '@temporalio/client';
import { SA } from '../../domain/searchAttributes';
import { uniqueId } from '../harness/services';
import { bisectTestBed, config, culpritSpec, gitSteps, report, target } from './support/testBed';
import type { bisect } from './stubs/workflows';

/** Fixture histories, made once for the file (the generator takes ~0.4 s a commit). */
interface Histories {
  /** 12 commits on a line, the 10th panics at boot */
  line: { repo: FixtureRepo; shas: string[] };
  merges: { repo: FixtureRepo; base: string; culprit: string; bad: string };
  broken: { repo: FixtureRepo; shas: string[] };
  ambiguous: { repo: FixtureRepo; shas: string[] };
}

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

async function makeHistories(root: string): Promise<Histories> {
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

const bed = bisectTestBed(makeHistories);
const { runBisect, mailTo } = bed;
let h: Histories;
beforeAll(() => {
  h = bed.histories();
});

describe('bisect', () => {
  /** the first commit git bisect would test on the line */
  const firstPick = async () =>
    (
      await runOk('git', ['-C', h.line.repo.dir, 'rev-list', '--bisect', h.line.shas[12], `^${h.line.shas[1]}`])
    ).stdout.trim();

  it('finds the culprit of a linear history with the steps git bisect run takes, verifies and reverts it, records it and mails its author', async () => {
    const { repo, shas } = h.line;
    const { result, workflowId, calls } = await runBisect(
      'line',
      repo,
      { good: shas[1], bad: shas[12], report, parallel: 1 },
      { keep: 'bisect-found-confirmed' },
    );
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

    // children: 2 endpoints, the search steps, then at once one verify series of 3 boots of the culprit's
    // own build (not built again) and one revert series of 3 boots
    expect(calls.filter((c) => c.workflowId.includes(':step:'))).toHaveLength(2 + result.searchSteps);
    const culprit12 = shas[10].slice(0, 12);
    expect(calls.filter((c) => c.workflowId.includes(':verify:'))).toEqual([
      { workflowId: `${workflowId}:verify:${culprit12}:1`, sha: shas[10], runs: 3, prebuilt: true },
    ]);
    const revertCall = calls.find((c) => c.workflowId === `${workflowId}:revert:${culprit12}:1`)!;
    expect(revertCall).toMatchObject({ runs: 3 });
    expect(revertCall.prebuilt).toBeUndefined();
    // every commit was built once at most
    const built = calls.filter((c) => !c.prebuilt).map((c) => c.sha);
    expect(new Set(built).size).toBe(built.length);
    expect(result.boots).toBe(2 + result.searchSteps + 3 + 3);
    expect(
      (
        await runOk('git', [
          '-C',
          join(bed.mirrorDir(), 'line.git'),
          'rev-parse',
          `refs/bootfarm/revert/${shas[12].slice(0, 12)}-${culprit12}`,
        ])
      ).stdout.trim(),
    ).toBe(revertCall.sha);

    const [row] = await bed.db()
      .sql`select id, status, culprit_sha, bisect_log, jsonb_array_length(steps) as steps from bisections where workflow_id = ${workflowId}`;
    // endpoints, search steps, and the verify and revert series
    expect(row).toMatchObject({ status: 'found', culprit_sha: shas[10], steps: 2 + result.searchSteps + 2 });
    expect(Number(row.id)).toBe(result.bisectionId);
    expect(row.bisect_log).toBe(result.bisectLog);
    expect(result.bisectLog).toContain(`# first bad commit: [${shas[10]}] x86: fixture: widget panics at boot`);

    const { to, cc, mail } = await mailTo(result.reportMessageId!);
    expect(to).toEqual(['ann@example.org', 'rob@example.org']);
    expect(cc).toEqual(['list@lists.example.org']);
    expect(mail.text).toContain('Kernel panic - not syncing: fixture: boom');

    const desc = await bed.env().client.workflow.getHandle(workflowId).describe();
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
    const { result, calls } = await runBisect(
      'line',
      repo,
      { good: shas[1], bad: shas[12] },
      {
        lab: {
          interfere: ({ sha, workflowId }) => (sha === flaky && !workflowId.endsWith(':a2') ? 'offline' : undefined),
        },
      },
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
    const { result } = await runBisect(
      'line',
      repo,
      { good: shas[1], bad: shas[12] },
      {
        lab: {
          interfere: ({ sha, workflowId }) => (sha === lost && workflowId.includes(':step:') ? 'throw' : undefined),
        },
      },
    );
    expect(result.steps.find((s) => s.sha === lost)).toMatchObject({ verdict: 'skip', attempts: 2, build: 'not-run' });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
  });

  it("stops with a clear verdict when the endpoints don't reproduce, after booting the contradicting one again: the good commit fails, or the bad one boots", async () => {
    const { repo, shas } = h.line;
    const goodFails = await runBisect('line', repo, { good: shas[11], bad: shas[12], report });
    expect(goodFails.result.verdict).toMatchObject({ status: 'invalid', confirmed: false });
    expect(goodFails.result.verdict.summary).toBe(
      `endpoints don't reproduce: good ${shas[11].slice(0, 12)} failed (Kernel panic - not syncing: fixture: boom) (0 passes, 3 failures)`,
    );
    // the good commit that failed was booted again (2 more boots of its build) before the range was called invalid
    const bootsOf = (calls: typeof goodFails.calls, sha: string) =>
      calls.filter((c) => c.sha === sha).map((c) => ({ runs: c.runs, prebuilt: !!c.prebuilt }));
    expect(bootsOf(goodFails.calls, shas[11])).toEqual([
      { runs: 1, prebuilt: false },
      { runs: 2, prebuilt: true },
    ]);
    expect(bootsOf(goodFails.calls, shas[12])).toEqual([{ runs: 1, prebuilt: false }]);
    expect(goodFails.result.reportMessageId).toBeUndefined();
    const [row] = await bed.db()
      .sql`select status, verdict->>'summary' as summary from bisections where workflow_id = ${goodFails.workflowId}`;
    expect(row).toEqual({ status: 'invalid', summary: goodFails.result.verdict.summary });

    const badBoots = await runBisect('line', repo, { good: shas[1], bad: shas[8] });
    expect(badBoots.result.verdict.summary).toBe(
      `endpoints don't reproduce: bad ${shas[8].slice(0, 12)} passed (3 passes, 0 failures)`,
    );
    expect(bootsOf(badBoots.calls, shas[8])).toEqual([
      { runs: 1, prebuilt: false },
      { runs: 2, prebuilt: true },
    ]);
    expect(bootsOf(badBoots.calls, shas[1])).toEqual([{ runs: 1, prebuilt: false }]);
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
    const handle = bed.env().client.workflow.getHandle(workflowId);
    // the run that returned was started by continue-as-new
    const started = (await handle.fetchHistory()).events![0].workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBeTruthy();
    const ids = calls.map((c) => c.workflowId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.steps.filter((s) => s.role === 'candidate')).toHaveLength(result.searchSteps);
  });

  it('restarted after it was terminated, looks up the steps it finished instead of building them again', async () => {
    const { repo, shas } = h.line;
    const lab = bed.newLab('line');
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
    const workflowId = bed.newWorkflowId('line', shas[12]);
    const worker = await bed.worker(taskQueue, lab);
    const env = bed.env();
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
    await expect(runBisect('line', repo, { good: shas[1], bad: shas[12] }, { replace: broken })).rejects.toBeInstanceOf(
      WorkflowFailedError,
    );
    // the only bisection of this file that ends in an error
    const [row] = await bed.db()
      .sql`select status, verdict->>'summary' as summary from bisections where status = 'error'`;
    expect(row).toEqual({ status: 'error', summary: 'bisection failed: the mirror is gone' });
  });
});
