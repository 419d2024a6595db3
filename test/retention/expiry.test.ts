/**
 * The store sweep against real PostgreSQL and two real stores (a directory
 * and S3 on SeaweedFS): months of results of one tree, old and new, some of
 * them named by a regression, a bisection or being among a branch's newest
 * revisions. The sweep must remove exactly what the policy says, keep the
 * evidence a maintainer still needs, change nothing in a dry run, survive a
 * sweep that died between deleting and marking, and find nothing to do the
 * second time.
 */
import { existsSync, mkdtempSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createExpiry } from '../../activities/retention/expiry';
import { STORE_KINDS, type StoreKind, type SweepResult } from '../../domain/retention';
import { workflowIds } from '../../domain/ids';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Store, type ArtifactStore } from '../../plumbing/store';
import {
  fakeSha,
  recordBuilds,
  recordLabJob,
  recordMail,
  recordRevision,
  type History,
  type RecordedBuild,
} from '../../bench/support/history';
import { freshDatabase, type TestDatabase } from '../harness/services';
import { realStores } from '../harness/realStores';

const DAY = 86_400_000;
const NOW = Date.now();
const ago = (days: number) => new Date(NOW - days * DAY);

/** The policy under test: ages in days, and the newest revisions kept per branch. */
const POLICY: Record<StoreKind, number> = {
  buildArtifacts: 30,
  buildLogs: 60,
  consoleLogs: 90,
  outbox: 60,
  labJobs: 30,
};
const KEEP_REVISIONS = 3;

const real = realStores('retention-');

interface Row {
  build: RecordedBuild;
  tree: string;
  sha: string;
  config: string;
  ageDays: number;
  /** why its build must stay whatever its age, if it must */
  pinned?: string;
  /** the platforms whose boots of it must stay (all when the whole commit is pinned) */
  pinnedPlatforms?: string[];
}

/**
 * One tree, two branches. master: a revision every 10 days from 145 to 35
 * days ago (so even its newest three are past the artifact age); stable: two
 * revisions 115 and 105 days ago (its newest three, so kept whole). A boot
 * regression on master (c1, p1): last good rev 1, first bad rev 2, fixed at
 * rev 4. An open build regression on master (c1): last good rev 7, first
 * bad rev 8. A bisection (c2, p2) between rev 5 and rev 6, with a build of its
 * own of an untested commit and one of rev 6 (the same objects as rev 6's).
 */
async function fillWorld(h: History) {
  const tree = 't';
  const lab = 'lab1';
  const configs = ['c1', 'c2'];
  const platforms = ['p1', 'p2'];
  const master = Array.from({ length: 12 }, (_, i) => ({ sha: fakeSha('master', i), ageDays: 145 - 10 * i }));
  const stable = [115, 105].map((ageDays, i) => ({ sha: fakeSha('stable', i), ageDays }));
  const rows: Row[] = [];
  type Pin = { why: string; platforms?: string[] } | undefined;
  const add = async (branch: string, rev: { sha: string; ageDays: number }, pin: (config: string) => Pin) => {
    const builds = await recordRevision(h, {
      tree,
      branch,
      sha: rev.sha,
      at: ago(rev.ageDays),
      configs,
      platforms,
      lab,
    });
    builds.forEach((build, i) => {
      const p = pin(configs[i]);
      rows.push({
        build,
        tree,
        sha: rev.sha,
        config: configs[i],
        ageDays: rev.ageDays,
        pinned: p?.why,
        pinnedPlatforms: p?.platforms,
      });
    });
  };
  for (const [i, rev] of master.entries())
    await add('master', rev, (config) => {
      if (i >= master.length - KEEP_REVISIONS) return { why: 'among the newest revisions of master' };
      // the regression's commits: last good, first bad, last bad, fixed
      if (config === 'c1' && [1, 2, 3, 4].includes(i)) return { why: 'named by the regression', platforms: ['p1'] };
      if (config === 'c2' && [5, 6].includes(i)) return { why: 'an endpoint of the bisection', platforms: ['p2'] };
      // an open build regression: its kernel and log on every platform
      if (config === 'c1' && [7, 8].includes(i)) return { why: 'named by the open build regression' };
      return undefined;
    });
  for (const rev of stable) await add('stable', rev, () => ({ why: 'among the newest revisions of stable' }));

  const [regression] = await h.sql<{ id: string }[]>`
    insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at, last_bad_sha, fixed_sha)
    values (${tree}, 'master', 'boot', 'c1', 'p1', 'fixed', ${master[1].sha}, ${master[2].sha}, ${ago(125)}, ${master[3].sha}, ${master[4].sha})
    returning id`;
  await h.sql`insert into regression_history (regression_id, sha, event, at) values
    (${regression.id}, ${master[2].sha}, 'failed', ${ago(125)}), (${regression.id}, ${master[4].sha}, 'fixed', ${ago(105)})`;
  await h.sql`
    insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at)
    values (${tree}, 'master', 'build', 'c1', '', 'new', ${master[7].sha}, ${master[8].sha}, ${ago(65)})`;

  const bisection = workflowIds.bisect(tree, master[6].sha, 'c2', 'p2');
  await h.sql`insert into bisections (workflow_id, tree, branch, good_sha, bad_sha, config, platform, lab, status, culprit_sha, created_at)
    values (${bisection}, ${tree}, 'master', ${master[5].sha}, ${master[6].sha}, 'c2', 'p2', ${lab}, 'found', ${fakeSha('untested')}, ${ago(80)})`;
  const own = await recordBuilds(h, [
    { tree, sha: fakeSha('untested'), config: 'c2', at: ago(80), platforms: ['p2'], lab, bisection },
    { tree, sha: master[6].sha, config: 'c2', at: ago(80), platforms: ['p2'], lab, bisection },
  ]);
  rows.push({
    build: own[0],
    tree,
    sha: fakeSha('untested'),
    config: 'c2',
    ageDays: 80,
    pinned: "the bisection's own",
  });
  rows.push({ build: own[1], tree, sha: master[6].sha, config: 'c2', ageDays: 80, pinned: "the bisection's own" });
  return { rows, master, stable, bisection };
}

/** Which keys the policy removes: an oracle written from the rules, apart from the SQL. */
function expectedRemoved(rows: Row[]): Set<string> {
  const removed = new Set<string>();
  const older = (r: Row, kind: StoreKind) => r.ageDays > POLICY[kind];
  for (const r of rows) {
    for (const b of r.build.boots) {
      const pinned = r.pinned && (!r.pinnedPlatforms || r.pinnedPlatforms.includes(b.platform));
      if (!pinned && older(r, 'consoleLogs')) removed.add(b.logKey);
    }
    if (r.pinned) continue;
    // objects of a commit and config are shared by its rows: they go only when every row may let them go
    const sharers = rows.filter((o) => o.tree === r.tree && o.sha === r.sha && o.config === r.config);
    const all = (kind: StoreKind) => sharers.every((o) => !o.pinned && older(o, kind));
    if (all('buildArtifacts')) r.build.keys.artifacts.forEach((k) => removed.add(k));
    if (all('buildLogs')) removed.add(r.build.keys.log);
  }
  return removed;
}

async function listAll(store: ArtifactStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list('')) keys.push(o.key);
  return keys.sort();
}

async function sweepAll(h: History, dryRun: boolean): Promise<Record<StoreKind, SweepResult>> {
  const expiry = createExpiry(h);
  const out = {} as Record<StoreKind, SweepResult>;
  for (const kind of STORE_KINDS) {
    const result: SweepResult = { kind, rows: 0, objects: 0, bytes: 0, sample: [] };
    let after;
    // small batches and calls: the cursor has to carry the sweep across them
    do {
      const r = await expiry.sweep({
        kind,
        cutoff: ago(POLICY[kind]).toISOString(),
        keepRevisions: KEEP_REVISIONS,
        dryRun,
        batch: 3,
        maxBatches: 2,
        after,
      });
      result.rows += r.rows;
      result.objects += r.objects;
      after = r.next;
    } while (after);
    out[kind] = result;
  }
  return out;
}

/**
 * The real store, failing from its `n`-th delete on: the S3 endpoint or the
 * disk going away in the middle of a batch, after some of its objects are
 * gone and before the batch's rows are marked.
 */
function failingFrom(store: ArtifactStore, n: number): ArtifactStore {
  let deletes = 0;
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'delete')
        return async (key: string) => {
          if (++deletes >= n) throw new Error(`store unreachable (delete ${deletes})`);
          return target.delete(key);
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The keys behind each expired mark, as the rows recorded them. */
async function markedKeys(h: History, rows: Row[]): Promise<string[]> {
  const builds = await h.sql<{ id: string; a: boolean; l: boolean }[]>`
    select id, artifacts_expired_at is not null as a, log_expired_at is not null as l from builds`;
  const boots = await h.sql<{ log_key: string }[]>`select log_key from boots where log_expired_at is not null`;
  return [
    ...builds.flatMap((m) => {
      const row = rows.find((r) => r.build.id === Number(m.id))!;
      return [...(m.a ? row.build.keys.artifacts : []), ...(m.l ? [row.build.keys.log] : [])];
    }),
    ...boots.map((b) => b.log_key),
  ];
}

const snapshot = async (h: History) => ({
  builds: await h.sql`select id, artifacts_expired_at, log_expired_at from builds order by id`,
  boots: await h.sql`select id, log_expired_at from boots order by id`,
  reports: await h.sql`select id, eml_expired_at from reports order by id`,
  jobs: await h.sql`select id from lab_jobs order by id`,
});

describe.each(real.stores)('the retention sweep on the %s store', (_kind, makeStore) => {
  let db: TestDatabase;
  let h: History;
  let world: Awaited<ReturnType<typeof fillWorld>>;
  let mails: { old: string; recent: string };
  let jobs: Record<string, number>;

  beforeAll(async () => {
    db = await freshDatabase();
    h = { sql: db.sql, store: await makeStore(), outboxDir: mkdtempSync(join(real.scratch(), 'outbox-')) };
    world = await fillWorld(h);
    mails = { old: await recordMail(h, 't', ago(100), 1), recent: await recordMail(h, 't', ago(10), 2) };
    jobs = {
      doneOld: await recordLabJob(h, 'api1', ago(41), ago(40), 'done'),
      expiredOld: await recordLabJob(h, 'api1', ago(41), ago(40), 'expired'),
      pendingDead: await recordLabJob(h, 'api1', ago(40), null, 'pending'),
      doneRecent: await recordLabJob(h, 'api1', ago(6), ago(5), 'done'),
      pendingLive: await recordLabJob(h, 'api1', new Date(NOW - 3_600_000), null, 'pending'),
    };
  });

  afterAll(async () => {
    h?.store.close?.();
    await db?.drop();
  });

  it('in a dry run counts what it would remove and removes nothing', async () => {
    const keysBefore = await listAll(h.store);
    const rowsBefore = await snapshot(h);
    const report = await sweepAll(h, true);
    expect(await listAll(h.store)).toEqual(keysBefore);
    expect(await snapshot(h)).toEqual(rowsBefore);
    expect(existsSync(join(h.outboxDir, mails.old))).toBe(true);
    const removed = expectedRemoved(world.rows);
    expect(report.buildArtifacts.objects + report.buildLogs.objects + report.consoleLogs.objects).toBe(removed.size);
    expect(report.outbox).toMatchObject({ rows: 1, objects: 1 });
    expect(report.labJobs.rows).toBe(3);
  });

  let markedBeforeFullSweep = 0;

  it('interrupted midway (the store fails mid-batch) removes only what the policy says and marks only what is gone', async () => {
    const before = await listAll(h.store);
    const removed = expectedRemoved(world.rows);
    // 3 rows x 3 objects per batch: the first batch goes through, the second dies after 4 of its deletes
    await expect(sweepAll({ ...h, store: failingFrom(h.store, 14) }, false)).rejects.toThrow('store unreachable');

    const present = new Set(await listAll(h.store));
    const gone = before.filter((k) => !present.has(k));
    expect(gone.length).toBeGreaterThan(0);
    expect(gone.length).toBeLessThan(removed.size);
    expect(gone.filter((k) => !removed.has(k))).toEqual([]);
    // a mark stands only over an object that is gone (the dashboard's "expired" is never a lie) ...
    const marked = await markedKeys(h, world.rows);
    expect(marked.length).toBeGreaterThan(0);
    expect(marked.filter((k) => present.has(k))).toEqual([]);
    // ... and the sweep did die between deleting and marking: objects gone, their rows not yet marked
    expect(gone.filter((k) => !marked.includes(k)).length).toBeGreaterThan(0);
    markedBeforeFullSweep = marked.length;
  });

  it('removes exactly what the policy says, oldest first, and keeps what regressions, bisections and the newest revisions point at', async () => {
    const before = await listAll(h.store);
    const removed = expectedRemoved(world.rows);

    // after the interrupted sweep: it finds again the rows whose objects it had deleted but not marked
    const report = await sweepAll(h, false);

    expect(await listAll(h.store)).toEqual(before.filter((k) => !removed.has(k)));
    expect(report.buildArtifacts.objects + report.buildLogs.objects + report.consoleLogs.objects).toBe(
      removed.size - markedBeforeFullSweep,
    );

    // what a maintainer needs of the regression: the first bad kernel, its build log and the failing console log
    const firstBad = world.rows.find((r) => r.sha === world.master[2].sha && r.config === 'c1')!;
    expect(await h.store.exists(firstBad.build.keys.artifacts[0])).toBe(true);
    expect(await h.store.exists(firstBad.build.keys.log)).toBe(true);
    const [onP1, onP2] = ['p1', 'p2'].map((p) => firstBad.build.boots.find((b) => b.platform === p)!);
    expect(await h.store.exists(onP1.logKey)).toBe(true);
    // the same kernel's console log on a platform the regression is not about: past its age, gone
    expect(await h.store.exists(onP2.logKey)).toBe(false);
    // the same commit's other config, named by nothing, is gone
    const sibling = world.rows.find((r) => r.sha === world.master[2].sha && r.config === 'c2')!;
    expect(await h.store.exists(sibling.build.keys.artifacts[0])).toBe(false);
    expect(await h.store.exists(sibling.build.boots[0].logKey)).toBe(false);
    // rev 6's c2 build is the revision's and the bisection's (same objects): kept for the bisection
    const shared = world.rows.find(
      (r) => r.sha === world.master[6].sha && r.config === 'c2' && !r.build.boots[0].logKey.includes('bisect'),
    )!;
    expect(await h.store.exists(shared.build.keys.artifacts[0])).toBe(true);
    // the open build regression's last good and first bad kernels and build logs, past both ages: kept
    for (const rev of [world.master[7], world.master[8]]) {
      const r = world.rows.find((x) => x.sha === rev.sha && x.config === 'c1')!;
      expect(await h.store.exists(r.build.keys.artifacts[0])).toBe(true);
      expect(await h.store.exists(r.build.keys.log)).toBe(true);
    }
    // stable's two revisions are its newest: kept whole though older than every age
    for (const r of world.rows.filter((x) => world.stable.some((s) => s.sha === x.sha)))
      expect(await h.store.exists(r.build.keys.artifacts[0])).toBe(true);

    // the marks say exactly what went, and nothing else
    const marked = await h.sql<{ id: string; a: boolean; l: boolean }[]>`
      select id, artifacts_expired_at is not null as a, log_expired_at is not null as l from builds`;
    for (const m of marked) {
      const row = world.rows.find((r) => r.build.id === Number(m.id))!;
      expect([m.id, m.a]).toEqual([m.id, row.build.keys.artifacts.every((k) => removed.has(k))]);
      expect([m.id, m.l]).toEqual([m.id, removed.has(row.build.keys.log)]);
    }
    const bootMarks = await h.sql<{ log_key: string; l: boolean }[]>`
      select log_key, log_expired_at is not null as l from boots`;
    for (const b of bootMarks) expect([b.log_key, b.l]).toEqual([b.log_key, removed.has(b.log_key)]);

    // the outbox keeps the recent mail; lab jobs: the finished and the dead pending ones past 30 days go
    expect(existsSync(join(h.outboxDir, mails.old))).toBe(false);
    expect(existsSync(join(h.outboxDir, mails.recent))).toBe(true);
    const left = (await h.sql<{ id: string }[]>`select id from lab_jobs order by id`).map((r) => Number(r.id));
    expect(left).toEqual([jobs.doneRecent, jobs.pendingLive]);
  });

  it('finds nothing to do the second time', async () => {
    const keys = await listAll(h.store);
    const report = await sweepAll(h, false);
    for (const kind of STORE_KINDS) expect([kind, report[kind].rows, report[kind].objects]).toEqual([kind, 0, 0]);
    expect(await listAll(h.store)).toEqual(keys);
  });

  it("holds back what a revision running again or a running bisection's config may be rewriting, until they end", async () => {
    // an old revision run again (bootfarm run --force): its build writes the same keys before its rows are recorded
    const [rerun] = await recordRevision(h, {
      tree: 't',
      branch: 'master',
      sha: fakeSha('rerun'),
      at: ago(200),
      configs: ['c1'],
      platforms: ['p1'],
      lab: 'lab1',
    });
    await h.sql`update revisions set status = 'running' where sha = ${fakeSha('rerun')}`;
    // an old build of a config a bisection is running on: a step may be rebuilding that commit
    const [old] = await recordBuilds(h, [
      { tree: 't', sha: fakeSha('old-c3'), config: 'c3', at: ago(200), platforms: ['p1'], lab: 'lab1' },
    ]);
    const running = workflowIds.bisect('t', fakeSha('bad-c3'), 'c3', 'p1');
    await h.sql`insert into bisections (workflow_id, tree, branch, good_sha, bad_sha, config, platform, lab, status)
      values (${running}, 't', 'master', ${fakeSha('good-c3')}, ${fakeSha('bad-c3')}, 'c3', 'p1', 'lab1', 'running')`;
    const held = [...rerun.keys.artifacts, rerun.keys.log, rerun.boots[0].logKey, ...old.keys.artifacts, old.keys.log];
    const exist = async () => Promise.all(held.map(async (k) => [k, await h.store.exists(k)]));

    await sweepAll(h, false);
    expect(await exist()).toEqual(held.map((k) => [k, true]));

    // once they ended, the next sweep takes what is past its age
    await h.sql`update revisions set status = 'done' where sha = ${fakeSha('rerun')}`;
    await h.sql`update bisections set status = 'not-found' where workflow_id = ${running}`;
    await sweepAll(h, false);
    expect(await exist()).toEqual(held.map((k) => [k, false]));
  });

  it('removes what killed writers left mid-write, and nothing being written now', async () => {
    if (h.store instanceof S3Store) {
      // S3: uploads begun and never completed; one from before the age, one begun after it
      const { bucket } = h.store;
      const s3 = real.seaweed();
      const raw = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3 });
      const begin = async (key: string) =>
        (await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
      const pending = async () =>
        ((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((u) => u.Key);
      try {
        await begin('builds/x/stale.bin');
        await new Promise((r) => setTimeout(r, 2500)); // S3 dates uploads to the second
        await begin('builds/x/live.bin');
        expect(await h.store.sweepTemporary(1500, { dryRun: true })).toBe(1);
        expect((await pending()).sort()).toEqual(['builds/x/live.bin', 'builds/x/stale.bin']);
        expect(await h.store.sweepTemporary(1500)).toBe(1);
        expect(await pending()).toEqual(['builds/x/live.bin']);
      } finally {
        raw.destroy();
      }
      return;
    }
    const root = (h.store as unknown as { root: string }).root;
    mkdirSync(join(root, 'builds', 'x'), { recursive: true });
    const stale = join(root, 'builds', 'x', 'bzImage.tmp-4242-abc123');
    const live = join(root, 'builds', 'x', 'bzImage.tmp-4243-def456');
    writeFileSync(stale, 'half');
    writeFileSync(live, 'half');
    utimesSync(stale, ago(2), ago(2));
    expect(await h.store.sweepTemporary(DAY, { dryRun: true })).toBe(1);
    expect(existsSync(stale)).toBe(true);
    expect(await h.store.sweepTemporary(DAY)).toBe(1);
    expect([existsSync(stale), existsSync(live)]).toEqual([false, true]);
    expect(await listAll(h.store)).not.toContain('builds/x/bzImage.tmp-4243-def456');
  });
});
