/**
 * The bisect workflow on a board that lies and a history that breaks twice
 * (time-skipping server, real bisection activities, the fixture lab of
 * support/fixtureLab.ts): boots judged as weighted votes, endpoints booted
 * again before the range is called invalid, round results checked against
 * the commit graph, a failed verification that sends the search back, a
 * revert that does not build, verify and revert at once.
 */
import { join } from 'node:path';
import { linearHistory, type FixtureRepo } from '../../fixtures/generator';
import { computeCandidates } from '../../activities/bisect/candidates';
import { runOk } from '../../plumbing/git/command';
import { sha12 } from '../../domain/ids';
import { bisectTestBed, culpritSpec, gitSteps, report, type RunOptions } from './support/testBed';
import type { BisectInput } from '../../domain/bisect';
import { flakyBoard, fixtureVerdict, type Interference } from './support/fixtureLab';

interface Histories {
  /** 12 commits on a line, the 10th panics at boot */
  line: { repo: FixtureRepo; shas: string[] };
  /** a panic at 3, fixed at 6, another panic at 10 */
  bfb: { repo: FixtureRepo; shas: string[] };
}

const bed = bisectTestBed(
  async (root): Promise<Histories> =>
    Object.fromEntries(
      await Promise.all([
        linearHistory(join(root, 'line'), 12, { 10: culpritSpec('x86: fixture: widget panics at boot') }).then(
          (x) => ['line', x] as const,
        ),
        linearHistory(join(root, 'bfb'), 12, {
          3: { subject: 'fixture: gadget panics at boot', effect: 'break-boot' },
          6: { subject: 'fixture: gadget no longer panics', effect: 'fix-boot' },
          10: culpritSpec('fixture: widget panics at boot'),
        }).then((x) => ['bfb', x] as const),
      ]),
    ) as unknown as Histories,
);
const { runBisect, mailTo } = bed;
let h: Histories;
beforeAll(() => {
  h = bed.histories();
});

/** A bisection of the line, shas[1]..shas[12] (the culprit is shas[10]), with more input and a lab of the test's. */
const bisectLine = (input: Partial<BisectInput>, opts: RunOptions = {}) =>
  runBisect('line', h.line.repo, { good: h.line.shas[1], bad: h.line.shas[12], ...input }, opts);

/** The first commit git bisect would test on the line. */
const firstPick = async () =>
  (
    await runOk('git', ['-C', h.line.repo.dir, 'rev-list', '--bisect', h.line.shas[12], `^${h.line.shas[1]}`])
  ).stdout.trim();

/** Only the first boot of a commit's first step child, not its re-tests. */
const firstBootOf = (sha: string, status: 'pass' | 'fail'): Interference => {
  return ({ sha: s, workflowId, run }) =>
    s === sha && workflowId.endsWith(`:step:${sha12(sha)}`) && run === 0 ? status : undefined;
};

describe('bisect on a noisy board', () => {
  it('finds the true culprit after a flaky board failed a good commit once: the failed verification sends the search back', async () => {
    const { shas } = h.line;
    const good = await firstPick();
    expect(good).not.toBe(shas[10]);
    const { result } = await bisectLine(
      { report },
      { lab: { interfere: firstBootOf(good, 'fail') }, keep: 'bisect-recovered' },
    );
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
    // the search first named the commit the board lied about, and its verification said otherwise
    expect(result.steps.find((s) => s.role === 'verify' && s.sha === good)).toMatchObject({
      passes: 3,
      fails: 0,
      verdict: 'good',
    });
    expect(result.verdict.notes).toContain(
      `verification of ${sha12(good)} failed: ${sha12(good)} is good after all; searching again`,
    );
    expect(result.verdict.checks.map((c) => `${c.name}:${c.outcome}`)).toEqual([
      'endpoints:passed',
      'verify:passed',
      'revert:passed',
    ]);
    expect(result.bisectLog).toContain(`git bisect good ${good}`);
    expect(result.bisectLog).toContain(`# first bad commit: [${shas[10]}]`);
    const { to, mail } = await mailTo(result.reportMessageId!);
    expect(to).toEqual(['ann@example.org', 'rob@example.org']);
    expect(mail.text).toContain(`verification of ${sha12(good)} failed`);
  });

  it('reports the culprit unconfirmed, with the evidence, when re-testing what its failed verification contradicts changes nothing', async () => {
    const x = await firstPick();
    // x fails every step boot, and passes two of its three verification boots
    const interfere: Interference = ({ sha, workflowId, run }) =>
      sha !== x ? undefined : workflowId.includes(':verify:') ? (run === 2 ? 'fail' : undefined) : 'fail';
    const { result } = await bisectLine({ report }, { lab: { interfere } });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: false, culprit: { sha: x } });
    expect(result.verdict.summary).toMatch(/^first bad commit \(unconfirmed: verify and revert failed\)/);
    expect(result.verdict.checks.find((c) => c.name === 'verify')!.detail).toBe(
      `${sha12(x)} booted 3 times: 2 passes, 1 failure: boots, not reproducible`,
    );
    // x was booted again as the failed verification asked, and stayed bad
    const retest = result.steps.filter((s) => s.role === 'retest' && s.sha === x);
    expect(retest).toHaveLength(1);
    // (the board contradicted itself on x, so its failures weigh less: more boots were needed to be sure)
    expect(result.verdict.notes).toHaveLength(1);
    expect(result.verdict.notes![0]).toMatch(
      new RegExp(
        `^re-tested ${sha12(x)} \\(verification of ${sha12(x)} failed\\): 2 passes, \\d+ failures in all: bad, as before$`,
      ),
    );
    const { to, cc, mail } = await mailTo(result.reportMessageId!);
    expect([...to, ...cc]).toEqual(['list@lists.example.org']);
    expect(mail.subject).toContain('[unconfirmed]');
    expect(mail.text).toContain('Re-tests and what they changed');
  });

  it('boots a good endpoint that failed once, or a bad one that passed once, again and goes on', async () => {
    const { shas } = h.line;
    const [good, bad] = [sha12(shas[1]), sha12(shas[12])];
    const cases = [
      { lies: firstBootOf(shas[1], 'fail'), endpoints: `good ${good} (2 passes, 1 failure) passed; bad ${bad} failed` },
      { lies: firstBootOf(shas[12], 'pass'), endpoints: `good ${good} passed; bad ${bad} (1 pass, 2 failures) failed` },
    ];
    for (const { lies, endpoints } of cases) {
      const { result } = await bisectLine({}, { lab: { interfere: lies } });
      expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
      expect(result.verdict.checks[0].detail).toBe(endpoints);
    }
  });

  it('on a board failing 1 boot in 5 at random, told the flake rate, boots every step at least twice and names the true culprit', async () => {
    const { shas } = h.line;
    for (const seed of [1, 2, 3]) {
      const { result } = await bisectLine({ flakeRate: 0.2 }, { lab: { interfere: flakyBoard(seed, 0.2, shas) } });
      expect({ seed, verdict: result.verdict }).toMatchObject({
        seed,
        verdict: { status: 'found', confirmed: true, culprit: { sha: shas[10] } },
      });
      for (const s of result.steps.filter((x) => x.role === 'candidate' || x.role.endsWith('endpoint')))
        expect(s.boots).toBeGreaterThanOrEqual(2);
    }
    // stepRuns from the config boots every step that many times, flaky board or not
    const { result } = await bisectLine({ stepRuns: 3 });
    expect(result.steps.filter((s) => s.role === 'candidate').map((s) => s.boots)).toEqual(
      result.steps.filter((s) => s.role === 'candidate').map(() => 3),
    );
  });

  it('re-tests a round whose results contradict the commit graph, and goes on when the re-test clears it', async () => {
    const { repo, shas } = h.line;
    const round1 = await computeCandidates(repo.dir, { good: [shas[1]], bad: shas[12], skipped: [], k: 2 });
    if (round1.kind !== 'test') throw new Error('expected candidates');
    const [lower, upper] = [...round1.candidates].sort((a, b) => a.weight - b.weight).map((c) => c.sha);
    // both boot on a perfect board; the board fails the lower one once: a bad ancestor of a good commit
    expect([(await fixtureVerdict(repo.dir, lower)).boot, (await fixtureVerdict(repo.dir, upper)).boot]).toEqual([
      'pass',
      'pass',
    ]);
    const { result } = await bisectLine({ parallel: 2 }, { lab: { interfere: firstBootOf(lower, 'fail') } });
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
    expect(result.verdict.nonMonotonic).toBeUndefined();
    expect(result.steps.filter((s) => s.role === 'retest').map((s) => [s.sha, s.verdict])).toEqual([
      [lower, 'good'],
      [upper, 'good'],
    ]);
    expect(result.verdict.notes?.[0]).toBe(
      `re-tested ${sha12(lower)} (a failing commit is an ancestor of a booting one): 2 passes, 1 failure in all: good (was bad)`,
    );
  });

  it('on a history that broke, was fixed and broke again, never ends in error: names the breakage nearest the bad commit and says the history is not monotonic', async () => {
    const { repo, shas } = h.bfb;
    const { result } = await runBisect(
      'bfb',
      repo,
      { good: shas[0], bad: shas[12], parallel: 2, report },
      { keep: 'bisect-nonmonotonic' },
    );
    // round 1 tests shas[4] (panics since 3) and shas[8] (fixed at 6): a failing ancestor of a booting commit
    expect(result.steps.filter((s) => s.role === 'candidate' && s.round === 1).map((s) => [s.sha, s.verdict])).toEqual([
      [shas[4], 'bad'],
      [shas[8], 'good'],
    ]);
    expect(
      result.steps
        .filter((s) => s.role === 'retest')
        .map((s) => s.sha)
        .sort(),
    ).toEqual([shas[4], shas[8]].sort());
    expect(result.verdict).toMatchObject({
      status: 'found',
      confirmed: true,
      culprit: { sha: shas[10] },
      nonMonotonic: [{ bad: shas[4], good: shas[8], goodBefore: shas[0] }],
    });
    expect(result.verdict.summary).toContain(
      `the history is not monotonic: broke in ${sha12(shas[0])}..${sha12(shas[4])}, fixed in ${sha12(shas[4])}..${sha12(shas[8])}`,
    );
    expect(result.bisectLog).toContain(`# bad, set aside (a good commit descends from it): [${shas[4]}]`);
    expect(result.bisectLog).not.toContain(`git bisect bad ${shas[4]}`);
    // git bisect run names a first bad commit on this range too; ours is one (it fails, its parent boots)
    const git = await gitSteps(repo, shas[0], shas[12]);
    expect(git.culprit).toBeDefined();
    expect((await fixtureVerdict(repo.dir, shas[9])).boot).toBe('pass');

    const { to, mail } = await mailTo(result.reportMessageId!);
    expect(to).toEqual(['ann@example.org', 'rob@example.org']);
    expect(mail.subject).toContain('[not monotonic]');
    expect(mail.text).toContain('History not monotonic');
    expect(mail.text).toContain(`fixed: ${sha12(shas[4])} fails, its descendant ${sha12(shas[8])} boots`);
  });

  it('calls a revert that does not build not applicable, and confirms the culprit by its verification', async () => {
    const { shas } = h.line;
    const { result } = await bisectLine(
      {},
      { lab: { interfereBuild: (input) => (input.revert ? 'fail' : undefined) } },
    );
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
    const revert = result.verdict.checks.find((c) => c.name === 'revert')!;
    expect(revert.outcome).toBe('not-applicable');
    expect(revert.detail).toMatch(
      /reverted \([0-9a-f]{12}\) does not build: build failed: drivers\/fixture\/broken\.c/,
    );
  });

  it('verifies the culprit while the revert is built and booted, not one after the other', async () => {
    const { shas } = h.line;
    const { result } = await bisectLine(
      {},
      {
        adapt(lab) {
          const stub = lab.activities.stubBuildBoot;
          lab.activities.stubBuildBoot = async (req) => {
            if (req.workflowId.includes(':verify:')) {
              // the verification holds its board until the revert's build-boot has started
              for (let i = 0; i < 200 && !lab.calls.some((c) => c.workflowId.includes(':revert:')); i++)
                await new Promise((r) => setTimeout(r, 100));
              if (!lab.calls.some((c) => c.workflowId.includes(':revert:')))
                throw new Error('the revert did not start while the culprit was being verified');
            }
            return stub(req);
          };
        },
      },
    );
    expect(result.verdict).toMatchObject({ status: 'found', confirmed: true, culprit: { sha: shas[10] } });
  });
});
