/**
 * What a maintainer sees of results the retention sweep removed: the pages
 * say "expired" (with when) where the links were, an old mail's link to a
 * log or kernel answers 410 "expired" instead of 404, the outbox names an
 * expired mail, the API carries the dates; a re-run of the same build makes
 * it whole again.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { createResultActivities } from '../../activities/pipeline/records';
import { createExpiry } from '../../activities/retention/expiry';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { STORE_KINDS } from '../../domain/retention';
import { DirStore } from '../../plumbing/store/dirStore';
import { fakeSha, recordMail, recordRevision, type History, type RecordedBuild } from '../../bench/support/history';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { get } from '../dashboard/client';
import { artifactHref } from '../../dashboard/pages/tables';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

describe('the dashboard after a retention sweep', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let h: History;
  let old: RecordedBuild;
  let fresh: RecordedBuild;
  let mail: string;

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = await mkdtemp(join(testDir(), 'retention-dash-'));
    h = { sql: db.sql, store: new DirStore(join(dir, 'artifacts')), outboxDir: join(dir, 'outbox') };
    const at = (d: number) => ({
      tree: 't',
      branch: 'master',
      configs: ['c1'],
      platforms: ['p1'],
      lab: 'l',
      at: ago(d),
    });
    [old] = await recordRevision(h, { ...at(200), sha: fakeSha('old') });
    // a failing boot of a revision no regression names: the revision page lists it
    await db.sql`update boots set status = 'fail' where id = ${old.boots[0].id}`;
    [fresh] = await recordRevision(h, { ...at(1), sha: fakeSha('fresh') });
    mail = await recordMail(h, 't', ago(200), 1);
    const expiry = createExpiry(h);
    for (const kind of STORE_KINDS)
      await expiry.sweep({ kind, cutoff: ago(100).toISOString(), keepRevisions: 1, dryRun: false, batch: 100 });
    dash = createDashboard({
      sql: db.sql,
      store: h.store,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      outboxDir: h.outboxDir,
      startRevision: () => Promise.reject(new Error('not here')),
      startBisection: () => Promise.reject(new Error('not here')),
      cancelBisection: () => Promise.reject(new Error('not here')),
    });
    base = (await dash.listen(0)).url;
  });

  afterAll(async () => {
    await dash?.close();
    await db?.drop();
  });

  it("shows 'expired' on the build page for the kernel and the log, and links what is still there", async () => {
    const page = await get(base, `/builds/${old.id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(artifactHref(old.keys.artifacts[0]));
    expect(page.text).toMatch(
      /kernel <span class="muted" title="removed by the retention policy on \d{4}-\d\d-\d\d">expired/,
    );
    expect(page.text).toContain('The build log expired: the retention policy removed it on');
    const kept = await get(base, `/builds/${fresh.id}`);
    expect(kept.text).toContain(artifactHref(fresh.keys.artifacts[0]));
    expect(kept.text).not.toContain('expired');
  });

  it("shows 'expired' for the console log on the boot page and in the revision's boot list", async () => {
    const boot = await get(base, `/boots/${old.boots[0].id}`);
    expect(boot.text).toContain('The console log expired');
    const [rev] = await db.sql`select id from revisions where sha = ${fakeSha('old')}`;
    const revision = await get(base, `/revisions/${rev.id}`);
    expect(revision.text).not.toContain(artifactHref(old.boots[0].logKey));
    expect(revision.text).toContain('>expired</span>');
  });

  it('answers an old link to a removed object with 410 expired, and a key never stored with 404', async () => {
    for (const key of [old.keys.artifacts[0], old.keys.log, old.boots[0].logKey]) {
      const r = await get(base, artifactHref(key));
      expect([key, r.status]).toEqual([key, 410]);
      expect(r.text).toMatch(
        new RegExp(`^expired: ${key.replace(/[.+]/g, '\\$&')} was removed by the retention policy on \\d{4}-`),
      );
    }
    expect((await get(base, artifactHref(fresh.keys.artifacts[0]))).status).toBe(200);
    expect((await get(base, artifactHref('builds/t/never/stored/bzImage'))).status).toBe(404);
  });

  it('names an expired mail in the outbox, and the API carries the dates', async () => {
    const page = await get(base, `/outbox/${mail}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('expired: the retention policy removed it from the outbox');
    const build = await get(base, `/api/builds/${old.id}`);
    expect(build.json.build.artifactsExpiredAt).toMatch(/^\d{4}-/);
    expect(build.json.build.logExpiredAt).toMatch(/^\d{4}-/);
    expect((await get(base, `/api/boots/${old.boots[0].id}`)).json.logExpiredAt).toMatch(/^\d{4}-/);
    expect((await get(base, `/api/builds/${fresh.id}`)).json.build.artifactsExpiredAt).toBeNull();
  });

  it('a re-run of the expired build makes it whole again: no expired marks, links back', async () => {
    const records = createResultActivities({ sql: db.sql });
    const key = old.keys.artifacts[0];
    await h.store.put(key, 'rebuilt kernel');
    await records.recordBuild({
      tree: 't',
      sha: fakeSha('old'),
      config: { name: 'c1', arch: 'x86_64', defconfig: 'defconfig', fragments: [], toolchain: 'gcc' },
      workflowId: 'build:t:rerun:c1',
      result: {
        status: 'pass',
        warnings: 0,
        errors: 0,
        errorLines: [],
        durationMs: 1000,
        artifacts: { kernel: { key, size: 14 }, log: { key: old.keys.log, size: 1 } },
      },
    });
    await h.store.put(old.keys.log, 'rebuilt log');
    const page = await get(base, `/builds/${old.id}`);
    expect(page.text).toContain(artifactHref(key));
    expect(page.text).toContain(artifactHref(old.keys.log));
    expect(page.text).not.toContain('The build log expired');
    // its boot was not booted again: that console log stays expired
    expect(page.text).toMatch(
      /<td><span class="muted" title="removed by the retention policy on [\d-]+">expired<\/span><\/td>/,
    );
    expect((await get(base, `/api/builds/${old.id}`)).json.build).toMatchObject({
      artifactsExpiredAt: null,
      logExpiredAt: null,
    });
  });
});
