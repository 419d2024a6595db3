import { createRegressionActivities, classifyRevision } from '../activities/report/regressions';
import { REOPEN_WINDOW, type SeriesClassification } from '../domain/reports';
import { FLAKE_WINDOW, MAX_CONFIRMATIONS, confirmationsNeeded, flakeEstimate, flakeSummary } from '../domain/flakiness';
import { freshDatabase, uniqueId, type TestDatabase } from './harness/services';
import { DAY, addBoot, addBuild, fakeSha, seedRevision, type SeedBoot } from './report/seed';

/**
 * Each case is one branch of its own: a list of revisions in test order, each
 * with one build of `x86_64-defconfig` and its boots on `qemu-x86_64`.
 */
type Step = { build?: string; boots?: SeedBoot[] };

describe('regression tracking against the previous tested revisions of the branch (real PostgreSQL)', () => {
  let db: TestDatabase;
  let acts: ReturnType<typeof createRegressionActivities>;
  const t0 = new Date('2026-11-20T10:00:00Z');

  beforeAll(async () => {
    db = await freshDatabase();
    acts = createRegressionActivities({ sql: db.sql });
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Seeds the steps one day apart, records regressions after each, returns the shas and the last classification. */
  async function history(steps: Step[], tree = 'demo') {
    const branch = uniqueId('b');
    const shas: string[] = [];
    let last: SeriesClassification[] = [];
    for (const [i, step] of steps.entries()) {
      const sha = fakeSha(`${i}abc`);
      shas.push(sha);
      await seedRevision(db.sql, {
        tree,
        branch,
        sha,
        startedAt: new Date(t0.getTime() + i * DAY),
        builds: [{ config: 'x86_64-defconfig', status: step.build ?? 'pass', boots: step.boots ?? [] }],
      });
      last = await acts.recordRegressions({ tree, branch, sha });
    }
    const rows =
      await db.sql`select kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at, last_bad_sha, fixed_sha
                              from regressions where tree = ${tree} and branch = ${branch} order by id`;
    return {
      branch,
      shas,
      last,
      rows,
      boot: last.find((c) => c.kind === 'boot'),
      build: last.find((c) => c.kind === 'build'),
    };
  }
  const boot = (status: string, lab = 'local', run = 0): SeedBoot => ({ platform: 'qemu-x86_64', lab, run, status });

  it('a boot that passed and now fails is a new regression, recorded with its last good and first bad revision', async () => {
    const h = await history([{ boots: [boot('pass')] }, { boots: [boot('fail')] }]);
    expect(h.boot).toEqual({
      kind: 'boot',
      config: 'x86_64-defconfig',
      platform: 'qemu-x86_64',
      state: 'new-regression',
      lastGoodSha: h.shas[0],
      firstBadSha: h.shas[1],
      since: new Date(t0.getTime() + DAY).toISOString(),
      failingDays: 0,
      flakeRates: { local: 0 },
    });
    expect(h.rows).toEqual([
      expect.objectContaining({
        kind: 'boot',
        platform: 'qemu-x86_64',
        state: 'new',
        last_good_sha: h.shas[0],
        first_bad_sha: h.shas[1],
        last_bad_sha: h.shas[1],
      }),
    ]);
  });

  it('a failure that goes on is still failing, with the days since the first failing revision, in the same row', async () => {
    const h = await history([
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
      { boots: [boot('fail')] },
      { boots: [boot('fail')] },
    ]);
    expect(h.boot).toMatchObject({
      state: 'still-failing',
      lastGoodSha: h.shas[0],
      firstBadSha: h.shas[1],
      failingDays: 2,
    });
    expect(h.rows).toHaveLength(1);
    expect(h.rows[0]).toMatchObject({ state: 'still-failing', first_bad_sha: h.shas[1], last_bad_sha: h.shas[3] });
    expect(new Date(h.rows[0].first_bad_at).toISOString()).toBe(new Date(t0.getTime() + DAY).toISOString());
  });

  it('a failing series that passes again is fixed, and its regression is marked fixed', async () => {
    const h = await history([{ boots: [boot('pass')] }, { boots: [boot('fail')] }, { boots: [boot('pass')] }]);
    expect(h.boot).toMatchObject({ state: 'fixed', lastGoodSha: h.shas[0], firstBadSha: h.shas[1] });
    expect(h.rows).toEqual([
      expect.objectContaining({ state: 'fixed', fixed_sha: h.shas[2], first_bad_sha: h.shas[1] }),
    ]);
  });

  it('a failure with no earlier result is new, not a regression: nothing to bisect from, nothing recorded', async () => {
    const h = await history([{ boots: [boot('fail')] }]);
    expect(h.boot).toMatchObject({ state: 'no-history', lastGoodSha: null, firstBadSha: h.shas[0] });
    expect(h.rows).toHaveLength(0);
    const passing = await history([{ boots: [boot('pass')] }]);
    expect(passing.last).toEqual([]);
  });

  it('offline, infra-error and skip neither make nor break a regression: the look back skips them', async () => {
    const h = await history([
      { boots: [boot('pass')] },
      { boots: [boot('offline')] },
      { boots: [boot('infra-error')] },
      { boots: [boot('fail')] },
    ]);
    expect(h.boot).toMatchObject({ state: 'new-regression', lastGoodSha: h.shas[0], firstBadSha: h.shas[3] });

    const g = await history([
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
      { boots: [boot('offline')] },
      { boots: [boot('skip')] },
      { boots: [boot('fail')] },
    ]);
    expect(g.boot).toMatchObject({ state: 'still-failing', firstBadSha: g.shas[1], failingDays: 3 });
    expect(g.rows).toEqual([expect.objectContaining({ state: 'still-failing', last_bad_sha: g.shas[4] })]);

    const offlineNow = await history([
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
      { boots: [boot('offline')] },
    ]);
    expect(offlineNow.boot).toBeUndefined();
    expect(offlineNow.rows).toEqual([expect.objectContaining({ state: 'new' })]);
  });

  it("a kernel that fails in one lab and passes in another is a lab-specific failure, tracked as the series' regression", async () => {
    const h = await history([
      { boots: [boot('pass', 'lab-a'), boot('pass', 'lab-b')] },
      { boots: [boot('pass', 'lab-a'), boot('fail', 'lab-b')] },
    ]);
    expect(h.boot).toMatchObject({
      state: 'new-regression',
      lastGoodSha: h.shas[0],
      firstBadSha: h.shas[1],
      onlyInLabs: ['lab-b'],
      passingInLabs: ['lab-a'],
    });
    const [row] = await db.sql`select state, only_in_labs from regressions where branch = ${h.branch}`;
    expect(row).toEqual({ state: 'new', only_in_labs: ['lab-b'] });

    // When the other lab fails too, it is the same regression, no longer lab-specific.
    const g = await history([
      { boots: [boot('pass', 'lab-a')] },
      { boots: [boot('pass', 'lab-a'), boot('fail', 'lab-b')] },
      { boots: [boot('fail', 'lab-a'), boot('fail', 'lab-b')] },
    ]);
    expect(g.boot).toMatchObject({ state: 'still-failing', lastGoodSha: g.shas[0], firstBadSha: g.shas[1] });
    expect(g.boot?.onlyInLabs).toBeUndefined();
    expect(g.rows).toHaveLength(1);
  });

  it('builds are series too; an infra-error build is no verdict', async () => {
    const h = await history([{ build: 'pass' }, { build: 'infra-error' }, { build: 'fail' }]);
    expect(h.build).toMatchObject({
      kind: 'build',
      platform: '',
      state: 'new-regression',
      lastGoodSha: h.shas[0],
      firstBadSha: h.shas[2],
    });
    expect(h.rows).toEqual([expect.objectContaining({ kind: 'build', platform: '', state: 'new' })]);
  });

  it('a failure older than the history looked at keeps its first bad revision from the regressions table', async () => {
    const h = await history([
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
      { boots: [boot('fail')] },
      { boots: [boot('fail')] },
    ]);
    const rev = { tree: 'demo', branch: h.branch, sha: h.shas[3] };
    expect(await classifyRevision(db.sql, rev, { historyLimit: 1 })).toEqual([
      expect.objectContaining({
        state: 'still-failing',
        lastGoodSha: h.shas[0],
        firstBadSha: h.shas[1],
        failingDays: 2,
      }),
    ]);
  });

  it('recording the same revision twice leaves one row (a retried activity)', async () => {
    const h = await history([{ boots: [boot('pass')] }, { boots: [boot('fail')] }]);
    await acts.recordRegressions({ tree: 'demo', branch: h.branch, sha: h.shas[1] });
    const rows = await db.sql`select state from regressions where branch = ${h.branch}`;
    expect(rows).toEqual([{ state: 'new' }]);
  });

  it('a boot failure that would be a new regression is offered for one confirmation run; a passing re-run clears it', async () => {
    const tree = 'demo';
    const h = await history([{ boots: [boot('pass')] }, { boots: [boot('fail')] }]);
    const rev = { tree, branch: h.branch, sha: h.shas[1] };
    expect(await acts.candidateNewBootRegressions(rev)).toEqual([
      { config: 'x86_64-defconfig', platform: 'qemu-x86_64', labs: ['local'], run: 1 },
    ]);
    expect(await acts.candidateNewBootRegressions(rev, { confirmations: 0 })).toEqual([]);

    // The pipeline re-runs the boot as run 1 of the same build: it passes, so it was a lab glitch.
    const [{ id }] = await db.sql`select id from builds where tree = ${tree} and sha = ${rev.sha}`;
    await addBoot(
      db.sql,
      { tree, sha: rev.sha, startedAt: t0 },
      Number(id),
      'x86_64-defconfig',
      'x86_64',
      boot('pass', 'local', 1),
    );
    expect(await acts.candidateNewBootRegressions(rev)).toEqual([]);
    expect(await classifyRevision(db.sql, rev)).toEqual([]);
    // recorded before the confirmation, the regression is withdrawn when the revision is recorded again
    expect(await acts.recordRegressions(rev)).toEqual([]);
    expect(await db.sql`select * from regressions where branch = ${h.branch}`).toHaveLength(0);
  });

  it('a confirmed failure (the re-run fails too) is a new regression and is not offered again', async () => {
    const h = await history([{ boots: [boot('pass')] }, { boots: [boot('fail'), boot('fail', 'local', 1)] }]);
    expect(h.boot).toMatchObject({ state: 'new-regression' });
    expect(await acts.candidateNewBootRegressions({ tree: 'demo', branch: h.branch, sha: h.shas[1] })).toEqual([]);
    expect(
      await acts.candidateNewBootRegressions({ tree: 'demo', branch: h.branch, sha: h.shas[1] }, { confirmations: 2 }),
    ).toEqual([expect.objectContaining({ run: 2 })]);
  });

  it('only the same branch counts as history, even when another branch tested the same commits', async () => {
    const a = await history([{ boots: [boot('pass')] }]);
    // another branch of the same tree fails on a new commit with no history of its own
    const otherBranch = uniqueId('o');
    const sha = fakeSha('fff');
    await seedRevision(db.sql, {
      tree: 'demo',
      branch: otherBranch,
      sha,
      startedAt: new Date(t0.getTime() + 5 * DAY),
      builds: [],
    });
    await addBuild(
      db.sql,
      { tree: 'demo', sha, startedAt: t0 },
      { config: 'x86_64-defconfig', status: 'pass', boots: [boot('fail')] },
    );
    const c = await classifyRevision(db.sql, { tree: 'demo', branch: otherBranch, sha });
    expect(c).toEqual([expect.objectContaining({ state: 'no-history' })]);
    expect(a.last).toEqual([]);
  });

  it('a regression that is fixed and fails again is the same regression, reopened, with its history: one row', async () => {
    const h = await history([
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
    ]);
    expect(h.boot).toMatchObject({
      state: 'failing-again',
      lastGoodSha: h.shas[0],
      firstBadSha: h.shas[1],
      fixedSha: h.shas[2],
    });
    expect(h.rows).toEqual([
      expect.objectContaining({ state: 'still-failing', first_bad_sha: h.shas[1], last_bad_sha: h.shas[3] }),
    ]);
    const events = async () =>
      db.sql`select h.sha, h.event from regression_history h join regressions r on r.id = h.regression_id
             where r.branch = ${h.branch} order by h.at, h.id`;
    expect(await events()).toEqual([
      { sha: h.shas[1], event: 'failed' },
      { sha: h.shas[2], event: 'fixed' },
      { sha: h.shas[3], event: 'failed-again' },
    ]);
    // recorded again (a retried activity), and read again for the report: still failing again, once
    const rev = { tree: 'demo', branch: h.branch, sha: h.shas[3] };
    expect(await acts.recordRegressions(rev)).toEqual([expect.objectContaining({ state: 'failing-again' })]);
    expect(await classifyRevision(db.sql, rev)).toEqual([expect.objectContaining({ state: 'failing-again' })]);
    const [{ flaps }] = await db.sql`select flaps from regressions where branch = ${h.branch}`;
    expect(flaps).toBe(1);

    // the next failing revision goes on as the same regression
    const sha = fakeSha('5abc');
    await seedRevision(db.sql, {
      tree: 'demo',
      branch: h.branch,
      sha,
      startedAt: new Date(t0.getTime() + 4 * DAY),
      builds: [{ config: 'x86_64-defconfig', status: 'pass', boots: [boot('fail')] }],
    });
    expect(await acts.recordRegressions({ tree: 'demo', branch: h.branch, sha })).toEqual([
      expect.objectContaining({ state: 'still-failing', firstBadSha: h.shas[1], lastGoodSha: h.shas[0] }),
    ]);
    expect(await db.sql`select id from regressions where branch = ${h.branch}`).toHaveLength(1);
    expect(await events()).toHaveLength(3);
  });

  it('a failure long after the fix is a new regression: the reopen window is REOPEN_WINDOW revisions', async () => {
    // the fixing revision and REOPEN_WINDOW passes after it
    const passes = Array.from({ length: REOPEN_WINDOW + 1 }, () => ({ boots: [boot('pass')] }));
    const h = await history([
      { boots: [boot('pass')] },
      { boots: [boot('fail')] },
      ...passes,
      { boots: [boot('fail')] },
    ]);
    expect(h.boot).toMatchObject({ state: 'new-regression', firstBadSha: h.shas[h.shas.length - 1] });
    expect(h.rows).toHaveLength(2);
  });

  it('a reopening withdrawn by a passing confirmation puts the regression back to fixed', async () => {
    const lab = uniqueId('lab');
    const h = await history([
      { boots: [boot('pass', lab)] },
      { boots: [boot('fail', lab)] },
      { boots: [boot('pass', lab)] },
      { boots: [boot('fail', lab)] },
    ]);
    const rev = { tree: 'demo', branch: h.branch, sha: h.shas[3] };
    const [{ id }] = await db.sql`select id from builds where tree = 'demo' and sha = ${rev.sha}`;
    await addBoot(
      db.sql,
      { tree: 'demo', sha: rev.sha, startedAt: t0 },
      Number(id),
      'x86_64-defconfig',
      'x86_64',
      boot('pass', lab, 1),
    );
    expect(await acts.recordRegressions(rev)).toEqual([]);
    const rows = await db.sql`select state, fixed_sha, reopened_sha, flaps from regressions where branch = ${h.branch}`;
    expect(rows).toEqual([{ state: 'fixed', fixed_sha: h.shas[2], reopened_sha: null, flaps: 0 }]);
  });

  it("a bisection's builds and boots of a tested commit are not the revision's results", async () => {
    const h = await history([{ boots: [boot('pass')] }, { boots: [boot('pass')] }]);
    // a bisection booted the second revision's commit and it failed (a flaky board): its own rows
    const [{ id }] = await db.sql`
      insert into builds (tree, sha, config, arch, defconfig, status, scope, bisection, workflow_id)
      values ('demo', ${h.shas[1]}, 'x86_64-defconfig', 'x86_64', 'defconfig', 'pass', 'bisect:x:step', 'bisect:x', 'bisect:x:step')
      returning id`;
    await db.sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, scope, bisection)
                 values (${id}, 'demo', ${h.shas[1]}, 'x86_64-defconfig', 'x86_64', 'qemu-x86_64', 'local', 0, 'fail',
                         'bisect:x:step', 'bisect:x')`;
    expect(await classifyRevision(db.sql, { tree: 'demo', branch: h.branch, sha: h.shas[1] })).toEqual([]);
  });
});

describe('confirmation boots and flake rates (real PostgreSQL)', () => {
  let db: TestDatabase;
  let acts: ReturnType<typeof createRegressionActivities>;
  const t0 = new Date('2026-11-20T10:00:00Z');
  const config = 'x86_64-defconfig';

  beforeAll(async () => {
    db = await freshDatabase();
    acts = createRegressionActivities({ sql: db.sql });
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Revisions of one branch, one lab of its own; each step is the boots' statuses in run order. */
  async function series(steps: string[][], lab = uniqueId('lab')) {
    const branch = uniqueId('b');
    const shas: string[] = [];
    for (const [i, runs] of steps.entries()) {
      const sha = fakeSha(`${i}f`);
      shas.push(sha);
      await seedRevision(db.sql, {
        tree: 'demo',
        branch,
        sha,
        startedAt: new Date(t0.getTime() + i * DAY),
        builds: [
          { config, status: 'pass', boots: runs.map((status, run) => ({ platform: 'qemu-x86_64', lab, run, status })) },
        ],
      });
      await acts.recordRegressions({ tree: 'demo', branch, sha });
    }
    const rev = (i: number) => ({ tree: 'demo', branch, sha: shas[i] });
    return { branch, shas, lab, rev, last: rev(shas.length - 1) };
  }

  it('confirms a pass that would close a regression, as a failure that would open one; a failing re-boot keeps it open', async () => {
    const s = await series([['pass'], ['fail', 'fail'], ['pass']]);
    expect(await acts.bootsToConfirm(s.last, { confirmations: 1 })).toEqual([
      { config, platform: 'qemu-x86_64', labs: [s.lab], run: 1, confirming: 'pass' },
    ]);
    const [{ id }] = await db.sql`select id from builds where sha = ${s.last.sha}`;
    await addBoot(db.sql, { tree: 'demo', sha: s.last.sha, startedAt: t0 }, Number(id), config, 'x86_64', {
      platform: 'qemu-x86_64',
      lab: s.lab,
      run: 1,
      status: 'fail',
    });
    expect(await acts.bootsToConfirm(s.last, { confirmations: 1 })).toEqual([]);
    expect(await acts.recordRegressions(s.last)).toEqual([expect.objectContaining({ state: 'still-failing' })]);
    expect(await db.sql`select state from regressions where branch = ${s.branch}`).toEqual([
      { state: 'still-failing' },
    ]);
  });

  it('confirms the first failure a series ever shows, not every failure of a series that never passed', async () => {
    const first = await series([['fail']]);
    expect(await acts.bootsToConfirm(first.last, { confirmations: 1 })).toEqual([
      expect.objectContaining({ run: 1, confirming: 'fail' }),
    ]);
    const never = await series([['fail', 'fail'], ['fail']]);
    expect(await acts.bootsToConfirm(never.last, { confirmations: 1 })).toEqual([]);
  });

  it("keeps each series' recent pass/fail series and flake rate, and asks a flaky series for more confirmations", async () => {
    // kernels: a flake (failed, passed when booted again), two clean passes, another flake
    const s = await series([['fail', 'pass'], ['pass'], ['pass'], ['fail', 'pass']]);
    const [row] = await db.sql`select kernels, boots, flakes, flake_rate, series from boot_flakiness
                               where config = ${config} and platform = 'qemu-x86_64' and lab = ${s.lab}`;
    expect(row).toEqual({
      kernels: 4,
      boots: 6,
      flakes: 2,
      flake_rate: 2 / 6,
      series: [
        { tree: 'demo', sha: s.shas[3], outcomes: 'FP' },
        { tree: 'demo', sha: s.shas[2], outcomes: 'P' },
        { tree: 'demo', sha: s.shas[1], outcomes: 'P' },
        { tree: 'demo', sha: s.shas[0], outcomes: 'FP' },
      ],
    });
    // a new failure on this board: one confirmation is not enough (2 flakes in 6 boots: an estimate of 3/8)
    const sha = fakeSha('9f');
    await seedRevision(db.sql, {
      tree: 'demo',
      branch: s.branch,
      sha,
      startedAt: new Date(t0.getTime() + 10 * DAY),
      builds: [{ config, status: 'pass', boots: [{ platform: 'qemu-x86_64', lab: s.lab, status: 'fail' }] }],
    });
    const rev = { tree: 'demo', branch: s.branch, sha };
    const needed = confirmationsNeeded(1, flakeEstimate(2, 6));
    expect(needed).toBe(4); // (3/8)^5 < 1% < (3/8)^4
    const [{ id }] = await db.sql`select id from builds where sha = ${sha}`;
    for (let run = 1; run <= needed; run++) {
      expect(await acts.bootsToConfirm(rev, { confirmations: 1 })).toEqual([
        expect.objectContaining({ labs: [s.lab], run, confirming: 'fail' }),
      ]);
      await addBoot(db.sql, { tree: 'demo', sha, startedAt: t0 }, Number(id), config, 'x86_64', {
        platform: 'qemu-x86_64',
        lab: s.lab,
        run,
        status: 'fail',
      });
    }
    expect(await acts.bootsToConfirm(rev, { confirmations: 1 })).toEqual([]);
    const [c] = await acts.recordRegressions(rev);
    expect(c).toMatchObject({ state: 'new-regression', flakeRates: { [s.lab]: 2 / 11 } });
  });

  it("a flake rate counts only the revisions' own boots, not a bisection's", async () => {
    const s = await series([['pass'], ['pass']]);
    const [{ id }] = await db.sql`
      insert into builds (tree, sha, config, arch, defconfig, status, scope, bisection)
      values ('demo', ${s.shas[1]}, ${config}, 'x86_64', 'defconfig', 'pass', 'bisect:y:verify:1', 'bisect:y') returning id`;
    for (const [run, status] of ['fail', 'pass', 'fail'].entries())
      await db.sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, scope, bisection)
                   values (${id}, 'demo', ${s.shas[1]}, ${config}, 'x86_64', 'qemu-x86_64', ${s.lab}, ${run}, ${status},
                           'bisect:y:verify:1', 'bisect:y')`;
    await acts.recordRegressions(s.last);
    const [row] = await db.sql`select kernels, boots, flakes from boot_flakiness where lab = ${s.lab}`;
    expect(row).toEqual({ kernels: 2, boots: 2, flakes: 0 });
  });
});

describe('how many confirmations a flake rate asks for', () => {
  it('does not trust a short history: a series barely seen is assumed flaky, twenty clean kernels are not', () => {
    expect(confirmationsNeeded(1, flakeEstimate(0, 0))).toBe(MAX_CONFIRMATIONS);
    expect(confirmationsNeeded(1, flakeEstimate(0, 3))).toBe(2);
    expect(confirmationsNeeded(1, flakeEstimate(0, 20))).toBe(1);
    expect(confirmationsNeeded(1, flakeEstimate(4, 24))).toBe(2); // a 1-in-5 board seen for a while
  });

  it('none beyond the configured ones on a clean series; enough that agreeing flakes are rarer than 1 in 100', () => {
    expect(confirmationsNeeded(1, 0)).toBe(1);
    expect(confirmationsNeeded(0, 0)).toBe(0);
    expect(confirmationsNeeded(1, 0.1)).toBe(1); // 0.1² = 1%
    expect(confirmationsNeeded(1, 0.2)).toBe(2); // 0.2³ = 0.8%
    expect(confirmationsNeeded(3, 0.2)).toBe(3);
    expect(confirmationsNeeded(1, 0.5)).toBe(MAX_CONFIRMATIONS);
    expect(confirmationsNeeded(1, 1)).toBe(MAX_CONFIRMATIONS);
    expect(confirmationsNeeded(9, 0)).toBe(MAX_CONFIRMATIONS);
  });

  it("counts a flake as a boot that disagrees with its kernel's latest verdict, over the last FLAKE_WINDOW kernels", () => {
    const k = (outcomes: ('pass' | 'fail')[]) => ({ tree: 't', sha: 's', outcomes });
    expect(flakeSummary([k(['fail', 'pass']), k(['pass']), k(['fail', 'fail'])])).toMatchObject({
      kernels: 3,
      boots: 5,
      flakes: 1,
      flakeRate: 0.2,
    });
    // a kernel that failed, passed, then failed again: its verdict is fail, the pass is the flake
    expect(flakeSummary([k(['fail', 'pass', 'fail'])])).toMatchObject({ flakes: 1, boots: 3 });
    const many = Array.from({ length: FLAKE_WINDOW + 5 }, () => k(['fail', 'pass']));
    expect(flakeSummary(many)).toMatchObject({ kernels: FLAKE_WINDOW, flakeRate: 0.5 });
    expect(flakeSummary([])).toMatchObject({ kernels: 0, boots: 0, flakeRate: 0 });
  });
});
