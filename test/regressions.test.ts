import { createRegressionActivities, classifyRevision } from '../activities/report/regressions';
import type { SeriesClassification } from '../domain/reports';
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

  it('labs that disagree on the same build and platform make a conflict, reported and not tracked', async () => {
    const h = await history([
      { boots: [boot('pass', 'lab-a'), boot('pass', 'lab-b')] },
      { boots: [boot('pass', 'lab-a'), boot('fail', 'lab-b')] },
    ]);
    expect(h.boot).toMatchObject({ state: 'conflict', lastGoodSha: null, firstBadSha: null });
    expect(h.rows).toHaveLength(0);

    // A conflict is no verdict either: the next failure compares with the pass before it.
    const g = await history([
      { boots: [boot('pass', 'lab-a')] },
      { boots: [boot('pass', 'lab-a'), boot('fail', 'lab-b')] },
      { boots: [boot('fail', 'lab-a'), boot('fail', 'lab-b')] },
    ]);
    expect(g.boot).toMatchObject({ state: 'new-regression', lastGoodSha: g.shas[0], firstBadSha: g.shas[2] });
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
});
