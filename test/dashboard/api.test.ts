import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { DirStore } from '../../plumbing/store/dirStore';
import { workflowIds } from '../../domain/ids';
import { createDashboard, type Dashboard, type BisectionRequest } from '../../dashboard/server';
import { documentedOperations } from '../../dashboard/openapi';
import { apiDocument } from '../../dashboard/api/routes';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { EVIL_SUBJECT, PANIC_LINE, SHA_A, SHA_B, populate, type Populated } from './fixtures';
import { get, postJson, raw } from './client';
import { kcidbViolations } from './kcidbRules';

const ADMIN = 'admin-secret-for-tests';
const auth = { authorization: `Bearer ${ADMIN}` };

describe('dashboard REST API on a populated database', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let fx: Populated;
  let store: DirStore;
  const started: unknown[][] = [];
  const bisections: BisectionRequest[] = [];
  const cancelled: string[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = await mkdtemp(join(testDir(), 'dashboard-api-'));
    store = new DirStore(join(dir, 'artifacts'));
    fx = await populate(db.sql, store, join(dir, 'outbox'));
    dash = createDashboard({
      sql: db.sql,
      store,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      adminToken: ADMIN,
      outboxDir: join(dir, 'outbox'),
      publicUrl: 'https://bootfarm.example.org',
      startRevision: async (tree, branch, commit, force) => {
        started.push([tree, branch, commit, force]);
        return { workflowId: workflowIds.revision(tree, branch, commit ?? SHA_B), started: true };
      },
      startBisection: async (req) => {
        bisections.push(req);
        return { workflowId: workflowIds.bisect(req.tree, req.bad, req.config, req.platform) };
      },
      cancelBisection: async (id) => {
        cancelled.push(id);
      },
    });
    base = (await dash.listen(0)).url;
  });

  afterAll(async () => {
    await dash?.close();
    await db?.drop();
  });

  it('documents every API route in its OpenAPI document, and documents no route that does not exist', async () => {
    const routes = dash.router
      .routes()
      .filter((r) => r.template.startsWith('/api/'))
      .map((r) => `${r.method} ${r.template}`)
      .sort();
    expect(documentedOperations(apiDocument()).sort()).toEqual(routes);
    const served = await get(base, '/api/openapi.json');
    expect(served.status).toBe(200);
    expect(served.json.openapi).toBe('3.1.0');
    expect(Object.keys(served.json.paths).sort()).toEqual(Object.keys(apiDocument().paths).sort());
  });

  it('shows each branch with the status of its latest revision, and trees with none yet', async () => {
    const r = await get(base, '/api/trees');
    expect(r.status).toBe(200);
    const demo = r.json.items.find((b: { tree: string }) => b.tree === 'demo');
    expect(demo.branch).toBe('master');
    expect(demo.latest).toMatchObject({ id: fx.revB, sha: SHA_B, result: 'fail' });
    expect(demo.boots).toEqual({ pass: 1, fail: 2 });
    expect(demo.builds).toEqual({ pass: 2, fail: 1 });
    expect(r.json.items.find((b: { tree: string }) => b.tree === 'mainline')).toMatchObject({
      branch: null,
      latest: null,
    });
  });

  it('filters lists by tree, branch, status, platform, lab and config', async () => {
    const revs = await get(base, '/api/revisions?tree=demo&branch=master');
    expect(revs.json.items.map((r: { id: number }) => r.id)).toEqual([fx.revB, fx.revA]);
    expect((await get(base, '/api/revisions?result=pass')).json.items.map((r: { sha: string }) => r.sha)).toEqual([
      SHA_A,
    ]);

    const failing = await get(base, '/api/boots?status=fail');
    expect(failing.json.items.map((b: { id: number }) => b.id).sort()).toEqual([...fx.failingBootIds].sort());
    const farm = await get(base, `/api/boots?lab=farm&sha=${SHA_B.slice(0, 12)}`);
    expect(farm.json.items).toHaveLength(1);
    expect(farm.json.items[0]).toMatchObject({ lab: 'farm', platform: 'qemu-x86_64', status: 'fail', sha: SHA_B });
    const arm = await get(base, '/api/boots?platform=qemu-arm64-virt&status=pass');
    expect(arm.json.items).toHaveLength(2);
    expect(arm.json.items.every((b: { config: string }) => b.config === 'arm64-defconfig')).toBe(true);

    const brokenBuilds = await get(base, '/api/builds?status=fail');
    expect(brokenBuilds.json.items.map((b: { config: string; errors: number }) => [b.config, b.errors])).toEqual([
      ['x86_64-tinyconfig', 1],
    ]);
    expect((await get(base, '/api/builds?config=arm64-defconfig&arch=arm64')).json.items).toHaveLength(2);

    const regs = await get(base, '/api/regressions?tree=demo&branch=master&kind=boot');
    expect(regs.json.items).toHaveLength(1);
    expect(regs.json.items[0]).toMatchObject({
      config: 'x86_64-defconfig',
      platform: 'qemu-x86_64',
      lastGoodSha: SHA_A,
      firstBadSha: SHA_B,
      bisectionId: fx.bisectionId,
      state: 'new',
    });
    expect((await get(base, '/api/regressions?kind=build')).json.items[0]).toMatchObject({
      config: 'x86_64-tinyconfig',
      platform: '',
    });
    expect((await get(base, '/api/regressions?active=false')).json.items).toHaveLength(0);

    const bis = await get(base, `/api/bisections/${fx.bisectionId}`);
    expect(bis.json).toMatchObject({ status: 'found', culpritSha: SHA_B, goodSha: SHA_A });
    expect(bis.json.steps).toHaveLength(2);
    expect((await get(base, '/api/reports?kind=boot')).json.items[0].subject).toMatch(/2 failed/);
  });

  it('returns a revision with its builds and boots, and a build with its boots', async () => {
    const r = await get(base, `/api/revisions/${fx.revB}`);
    expect(r.status).toBe(200);
    expect(r.json.revision).toMatchObject({
      id: fx.revB,
      subject: EVIL_SUBJECT,
      workflowId: workflowIds.revision('demo', 'master', SHA_B),
    });
    expect(r.json.builds.map((b: { config: string }) => b.config).sort()).toEqual([
      'arm64-defconfig',
      'x86_64-defconfig',
      'x86_64-tinyconfig',
    ]);
    expect(r.json.boots).toHaveLength(3);
    const b = await get(base, `/api/builds/${fx.buildIds['x86_64-defconfig']}`);
    expect(b.json.boots.map((x: { status: string }) => x.status)).toEqual(['fail', 'fail']);
  });

  it('reports labs with capacity and load, never their token hash', async () => {
    const r = await get(base, '/api/labs');
    expect(r.status).toBe(200);
    expect(r.text).not.toMatch(/token/i);
    const local = r.json.items.find((l: { name: string }) => l.name === 'local');
    expect(local).toMatchObject({ adapter: 'qemu', capacity: 3, health: 'online', queued: 0, running: 0 });
    expect(local.lastBoot.status).toMatch(/pass|fail/);
    const platforms = await get(base, '/api/platforms');
    const bcm = platforms.json.items.find((f: { soc: string }) => f.soc === 'bcm2711');
    expect(bcm.platforms[0]).toMatchObject({ name: 'rpi4', labs: ['pi-lab'], boots: {} });
    const qemu = platforms.json.items.find((f: { soc: string }) => f.soc === 'qemu');
    expect(qemu.boots).toEqual({ pass: 4, fail: 2 });
    const daily = await get(base, '/api/stats/daily?days=7');
    expect(daily.json.items).toHaveLength(7);
    expect(daily.json.items[6].boots).toEqual({ pass: 6, fail: 2 });
  });

  it('pages through lists newest first without duplicates or gaps, ties on time included', async () => {
    const buildId = fx.buildIds['arm64-defconfig'];
    // 150 boots sharing one timestamp and 60 a microsecond apart: the cursor must order by (time, id) exactly.
    await db.sql`
      insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, created_at)
      select ${buildId}, 'demo', ${SHA_B}, 'arm64-defconfig', 'arm64', 'qemu-arm64-virt', 'pager', g, 'pass', '2024-01-02 03:04:05.123456+00'
      from generate_series(1, 150) g`;
    await db.sql`
      insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, created_at)
      select ${buildId}, 'demo', ${SHA_B}, 'arm64-defconfig', 'arm64', 'qemu-arm64-virt', 'pager', 1000 + g, 'pass',
             '2024-01-02 03:04:05.123456+00'::timestamptz + g * interval '1 microsecond'
      from generate_series(1, 60) g`;
    const expected = (await db.sql`select id from boots where lab = 'pager' order by created_at desc, id desc`).map(
      (r) => Number(r.id),
    );
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Awaited<ReturnType<typeof get>> = await get(
        base,
        `/api/boots?lab=pager&limit=13${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(13);
      seen.push(...r.json.items.map((b: { id: number }) => b.id));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(210);
    expect(pages).toBe(Math.ceil(210 / 13));
    // A row added at the head while paging does not shift later pages.
    const first = await get(base, '/api/boots?lab=pager&limit=200');
    expect(first.json.items).toHaveLength(200);
    await db.sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status)
                 values (${buildId}, 'demo', ${SHA_B}, 'arm64-defconfig', 'arm64', 'qemu-arm64-virt', 'pager', 5000, 'pass')`;
    const second = await get(
      base,
      `/api/boots?lab=pager&limit=200&cursor=${encodeURIComponent(first.json.nextCursor)}`,
    );
    expect(second.json.items.map((b: { id: number }) => b.id)).toEqual(expected.slice(200));
    await db.sql`delete from boots where lab = 'pager'`;
  });

  it.each([
    ['/api/boots/abc', 400, 'id'],
    ['/api/boots/0', 400, 'id'],
    ['/api/boots/-4', 400, 'id'],
    ['/api/boots/1.5', 400, 'id'],
    ['/api/boots/99999999999999999999999', 400, 'id'],
    ['/api/boots/9223372036854775807', 400, 'id'],
    ['/api/boots/987654', 404, 'id'],
    ['/api/revisions/987654/kcidb', 404, 'id'],
    ['/api/boots?limit=201', 400, 'limit'],
    ['/api/boots?limit=0', 400, 'limit'],
    ['/api/boots?limit=1e3', 400, 'limit'],
    ['/api/boots?limit=', 400, 'limit'],
    ['/api/boots?status=exploded', 400, 'status'],
    ['/api/boots?colour=red', 400, 'colour'],
    ['/api/boots?cursor=garbage', 400, 'cursor'],
    ['/api/boots?cursor=MTIzLjA', 400, 'cursor'],
    ['/api/boots?lab=x%27%3Bdrop%20table%20boots', 400, 'lab'],
    ['/api/boots?tree=a&tree=b', 400, 'tree'],
    ['/api/builds?sha=zzz', 400, 'sha'],
    ['/api/revisions?branch=..%2Fx', 400, 'branch'],
    ['/api/revisions/1?extra=1', 400, 'extra'],
    ['/api/regressions?state=broken', 400, 'state'],
    ['/api/stats/daily?days=100000', 400, 'days'],
    ['/api/outbox/..%2F..%2Fetc%2Fpasswd', 400, 'name'],
    ['/api/outbox/missing.eml', 404, 'name'],
    ['/api/boots/%E0%A4%A', 400, 'path'], // refused before routing: malformed %-escape
    ['/api/nowhere', 404, 'path'],
  ])('GET %s → %i naming %s', async (path, status, field) => {
    const r = await get(base, path);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.json).toMatchObject({ field });
    expect(typeof r.json.error).toBe('string');
  });

  it('refuses other methods, odd targets and artifact keys that leave the store', async () => {
    const del = await raw(base, 'DELETE', '/api/boots');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET');
    expect((await raw(base, 'GET', '/artifacts/../../etc/passwd')).status).toBe(400);
    expect((await raw(base, 'GET', '/artifacts/boots/%2e%2e/%2e%2e/x')).status).toBe(400);
    expect((await raw(base, 'GET', '/artifacts/no/such/object.log')).status).toBe(404);
    expect((await raw(base, 'GET', '*')).status).toBe(400);
    const head = await raw(base, 'HEAD', `/revisions/${fx.revB}`);
    expect([head.status, head.text, head.headers['content-type']]).toEqual([200, '', 'text/html; charset=utf-8']);
    const huge = await postJson(base, '/api/revisions', 'x'.repeat(17 * 1024 * 1024), auth);
    expect([huge.status, huge.json.field]).toEqual([413, 'body']);
  });

  it('serves artifacts from the store: logs as text, binaries as downloads', async () => {
    const log = await get(base, '/artifacts/' + fx.panicLogKey);
    expect(log.status).toBe(200);
    expect(log.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(log.text).toContain(PANIC_LINE);
    const kernel = await get(base, `/artifacts/builds/demo/${SHA_B.slice(0, 12)}/x86_64-defconfig/bzImage`);
    expect(kernel.status).toBe(200);
    expect(kernel.headers['content-type']).toBe('application/octet-stream');
    expect(kernel.headers['content-disposition']).toMatch(/attachment/);
  });

  it('exports a revision as KCIDB v4 data that keeps every required-field rule', async () => {
    // the boots' test plans' results: a passing boot's tests, a failed boot's MISS, and another revision's row
    const bootOf = async (sha: string, status: string) =>
      (
        await db.sql<
          { id: string; config: string; platform: string }[]
        >`select id, config, platform from boots where sha = ${sha} and status = ${status} and scope = '' order by id limit 1`
      )[0];
    const passed = await bootOf(SHA_B, 'pass');
    const failed = await bootOf(SHA_B, 'fail');
    const older = await bootOf(SHA_A, 'pass');
    const row = (
      boot: { id: string; config: string; platform: string },
      sha: string,
      path: string,
      status: string,
      excerpt: string | null,
    ) =>
      db.sql`insert into test_results (boot_id, tree, sha, config, platform, path, plan, status, reason, log_excerpt)
             values (${boot.id}, 'demo', ${sha}, ${boot.config}, ${boot.platform}, ${path}, 'kselftest', ${status},
                     ${status === 'PASS' ? null : `why ${path}`}, ${excerpt})`;
    await row(passed, SHA_B, 'kselftest.timers.posix_timers', 'PASS', null);
    await row(
      passed,
      SHA_B,
      'kselftest.size.get_size',
      'FAIL',
      '# get_size: exit=1\nnot ok 1 selftests: size: get_size',
    );
    await row(failed, SHA_B, 'kselftest.timers', 'MISS', null);
    await row(older, SHA_A, 'kselftest.timers.nsleep-lat', 'FAIL', null);
    const r = await get(base, `/api/revisions/${fx.revB}/kcidb`);
    expect(r.status).toBe(200);
    expect(kcidbViolations(r.json)).toEqual([]);
    expect(r.json.version).toEqual({ major: 4, minor: 3 });
    expect(r.json.checkouts).toHaveLength(1);
    expect(r.json.checkouts[0]).toMatchObject({
      origin: 'bootfarm',
      git_commit_hash: SHA_B,
      tree_name: 'demo',
      git_repository_branch: 'master',
    });
    expect(r.json.checkouts[0].git_repository_url).toBeUndefined(); // a local path is no https/git URL
    const byConfig = Object.fromEntries(r.json.builds.map((b: { comment: string }) => [b.comment, b]));
    expect(byConfig['x86_64-tinyconfig'].valid).toBe(false);
    expect(byConfig['x86_64-defconfig'].valid).toBe(true);
    expect(byConfig['x86_64-defconfig'].log_url).toMatch(
      /^https:\/\/bootfarm\.example\.org\/artifacts\/builds\/demo\//,
    );
    type Test = { id: string; path: string; status: string; build_id: string; log_excerpt?: string; log_url?: string };
    const bootTests = r.json.tests.filter((t: Test) => t.path === 'boot');
    const statuses = bootTests.map((t: Test) => t.status).sort();
    expect(statuses).toEqual(['FAIL', 'FAIL', 'PASS']);
    // each plan result is a test of its own, on its boot's build, with its path; none of another revision's
    const planTests = r.json.tests.filter((t: Test) => t.path !== 'boot');
    expect(planTests.map((t: Test) => `${t.status} ${t.path}`).sort()).toEqual([
      'FAIL kselftest.size.get_size',
      'MISS kselftest.timers',
      'PASS kselftest.timers.posix_timers',
    ]);
    const getSize = planTests.find((t: Test) => t.path === 'kselftest.size.get_size');
    expect(getSize.log_excerpt).toBe('# get_size: exit=1\nnot ok 1 selftests: size: get_size');
    expect(getSize.build_id).toBe(byConfig[passed.config].id);
    expect(getSize.log_url).toMatch(/^https:\/\/bootfarm\.example\.org\/artifacts\/boots\//);
    expect(planTests.find((t: Test) => t.path === 'kselftest.timers').log_excerpt).toBe('why kselftest.timers');
    expect(new Set(r.json.tests.map((t: Test) => t.id)).size).toBe(r.json.tests.length);
    const failing = bootTests.find((t: Test) => t.status === 'FAIL');
    expect(failing.build_id).toBe(byConfig['x86_64-defconfig'].id);
    expect(failing.log_excerpt).toBe(PANIC_LINE);
    // And the rules do catch a broken export.
    expect(
      kcidbViolations({ ...r.json, tests: [{ id: 'x', origin: 'bootfarm', status: 'BROKEN', path: null }] }),
    ).toEqual(
      expect.arrayContaining([
        'tests[0] lacks required build_id',
        expect.stringMatching(/status is invalid/),
        '$.tests[0].path is null',
      ]),
    );
  });

  it('lists the outbox and shows a message’s text part, headers decoded', async () => {
    const list = await get(base, '/api/outbox');
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0]).toMatchObject({ name: fx.outboxName, to: 'list@example.org' });
    expect(list.json.items[0].subject).toContain('— régression');
    const msg = await get(base, `/api/outbox/${fx.outboxName}`);
    expect(msg.json.text).toContain(PANIC_LINE);
    expect(msg.json.text).toContain('État: <b>not html</b>');
    expect(msg.json.hasHtml).toBe(true);
  });

  describe('operator endpoints (admin token)', () => {
    it('refuses without the token, with a wrong one, and bad bodies naming the field', async () => {
      const body = { tree: 'demo', branch: 'master' };
      expect((await postJson(base, '/api/revisions', body)).status).toBe(401);
      expect((await postJson(base, '/api/revisions', body, { authorization: 'Bearer nope' })).status).toBe(401);
      const cases: [unknown, Record<string, string>, number, string][] = [
        ['{"tree":', {}, 400, 'body'],
        ['', {}, 400, 'body'],
        ['[1,2]', {}, 400, 'body'],
        [body, { 'content-type': 'text/plain' }, 415, 'content-type'],
        [{ tree: 'demo' }, {}, 400, 'branch'],
        [{ tree: 'demo', branch: 'master', commit: 'not-a-sha' }, {}, 400, 'commit'],
        [{ tree: 'demo', branch: 'master', force: 'yes' }, {}, 400, 'force'],
        [{ tree: 'demo', branch: 'master', colour: 'red' }, {}, 400, 'colour'],
        [{ tree: '--upload-pack=x', branch: 'master' }, {}, 400, 'tree'],
        [{ tree: 'nosuchtree', branch: 'master' }, {}, 400, 'tree'],
      ];
      for (const [b, headers, status, field] of cases) {
        const r = await postJson(base, '/api/revisions', b, { ...auth, ...headers });
        expect([JSON.stringify(b), r.status, r.json?.field]).toEqual([JSON.stringify(b), status, field]);
      }
      expect(started).toEqual([]);
    });

    it('triggers a revision through the injected starter and links its workflow', async () => {
      const r = await postJson(
        base,
        '/api/revisions',
        { tree: 'demo', branch: 'master', commit: SHA_A, force: true },
        auth,
      );
      expect(r.status).toBe(202);
      expect(r.json.workflowId).toBe(workflowIds.revision('demo', 'master', SHA_A));
      expect(r.json.url).toBe(
        `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowIds.revision('demo', 'master', SHA_A))}`,
      );
      expect(started).toEqual([['demo', 'master', SHA_A, true]]);
    });

    it('starts and cancels bisections', async () => {
      const bad = await postJson(
        base,
        '/api/bisections',
        { tree: 'demo', good: SHA_A, bad: SHA_A, config: 'x86_64-defconfig', platform: 'qemu-x86_64' },
        auth,
      );
      expect([bad.status, bad.json.field]).toEqual([400, 'bad']);
      const missing = await postJson(
        base,
        '/api/bisections',
        { tree: 'demo', good: SHA_A, config: 'x86_64-defconfig', platform: 'qemu-x86_64' },
        auth,
      );
      expect([missing.status, missing.json.field]).toEqual([400, 'bad']);
      const ok = await postJson(
        base,
        '/api/bisections',
        { tree: 'demo', good: SHA_A, bad: SHA_B, config: 'x86_64-defconfig', platform: 'qemu-x86_64', lab: 'local' },
        auth,
      );
      expect(ok.status).toBe(202);
      expect(bisections).toEqual([
        { tree: 'demo', good: SHA_A, bad: SHA_B, config: 'x86_64-defconfig', platform: 'qemu-x86_64', lab: 'local' },
      ]);

      const done = await raw(base, 'POST', `/api/bisections/${fx.bisectionId}/cancel`, auth);
      expect([done.status, done.json.field]).toEqual([409, 'id']);
      expect((await raw(base, 'POST', '/api/bisections/424242/cancel', auth)).status).toBe(404);
      expect((await raw(base, 'POST', '/api/bisections/x/cancel', auth)).json.field).toBe('id');
      expect((await raw(base, 'POST', `/api/bisections/${fx.bisectionId}/cancel`)).status).toBe(401);
      await db.sql`update bisections set status = 'running' where id = ${fx.bisectionId}`;
      const cancel = await raw(base, 'POST', `/api/bisections/${fx.bisectionId}/cancel`, auth);
      expect(cancel.status).toBe(202);
      expect(cancelled).toEqual([workflowIds.bisect('demo', SHA_B, 'x86_64-defconfig', 'qemu-x86_64')]);
      await db.sql`update bisections set status = 'found' where id = ${fx.bisectionId}`;
    });
  });

  describe('pages', () => {
    it.each([
      '/',
      '/revisions',
      '/regressions',
      '/bisections',
      '/labs',
      '/platforms',
      '/charts',
      '/outbox',
      '/boots?lab=farm',
    ])('%s renders', async (path) => {
      const r = await get(base, path);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.text).toMatch(/<\/html>\s*$/);
    });

    it('escapes what the data says: a commit subject cannot inject markup', async () => {
      for (const path of [
        `/revisions/${fx.revB}`,
        '/',
        `/bisections/${fx.bisectionId}`,
        `/boots/${fx.failingBootIds[0]}`,
      ]) {
        const r = await get(base, path);
        expect(r.status).toBe(200);
        expect(r.text).not.toContain('<script>');
        expect(r.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends');
      }
    });

    it('answers bad page input with a 4xx page, never a 5xx', async () => {
      expect((await get(base, '/revisions/abc')).status).toBe(400);
      expect((await get(base, '/revisions/99999')).status).toBe(404);
      expect((await get(base, '/regressions?state=nope')).status).toBe(400);
      expect((await get(base, '/charts?days=0')).status).toBe(400);
      expect((await get(base, '/outbox/..%2Fx.eml')).status).toBe(400);
      // An empty field from a filter form counts as absent.
      expect((await get(base, '/regressions?tree=&branch=&kind=&state=')).status).toBe(200);
    });
  });
});
