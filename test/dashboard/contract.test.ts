/**
 * The API answers what its schemas say: every route of the table, asked with
 * real rows of a seeded database, answers a declared status with a body its
 * declared zod schema (the one the OpenAPI document is generated from)
 * accepts. Row schemas are strict, so a field the code adds or drops
 * without the schema fails here.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { DirStore } from '../../plumbing/store/dirStore';
import { tryAdmin } from '../../plumbing/db/tryAdmin';
import { tryWorkflowId } from '../../domain/tryRun';
import { workflowIds } from '../../domain/ids';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { API_ROUTES } from '../../dashboard/api/routes';
import { errorSchema, type ApiRoute } from '../../dashboard/api/route';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { LOCAL_TOKEN, SHA_A, SHA_B, labSwitch, populate, type Populated } from './fixtures';
import { raw } from './client';

const ADMIN = 'admin-secret-for-contract-tests';

/** What is wrong with an answer, judged by its route's declared statuses and schemas; [] when nothing. */
function violations(route: ApiRoute, status: number, body: unknown): string[] {
  const declared: z.ZodType | undefined =
    route.answers[status]?.schema ??
    (status in route.refusals || status in (route.guard?.refusals ?? {}) ? errorSchema : undefined);
  if (!declared) return [`${route.method} ${route.path}: status ${status} is not declared`];
  const r = declared.safeParse(body);
  return r.success
    ? []
    : r.error.issues.map((i) => `${route.method} ${route.path} ${status}: ${i.path.join('.')}: ${i.message}`);
}

describe('API answers against the schemas the OpenAPI document is generated from', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let fx: Populated;
  let regressionId: number;
  let developerToken: string;
  const tryId = tryWorkflowId('alice', '0123456789ab');

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = await mkdtemp(join(testDir(), 'dashboard-contract-'));
    const store = new DirStore(join(dir, 'artifacts'));
    fx = await populate(db.sql, store, join(dir, 'outbox'));
    [{ id: regressionId }] = (await db.sql`select id from regressions order by id limit 1`).map((r) => ({
      id: Number(r.id),
    }));
    await db.sql`insert into lab_jobs (lab, boot_key, task_token, request)
      values ('local', 'contract-job', '\\x00', ${db.sql.json({ platform: 'qemu-x86_64', kernel: { key: 'k/bzImage' } })})`;
    await db.sql`update reports set attempts = 1, attempt_at = now(), transport = 'outbox'`;
    developerToken = await tryAdmin(db.sql).newToken('alice');
    await tryAdmin(db.sql).recordRun({
      developer: 'alice',
      workflowId: tryId,
      platform: 'qemu-x86_64',
      lab: 'local',
      kernelKey: 'try/alice/0123456789abcdef/kernel',
    });
    dash = createDashboard({
      sql: db.sql,
      store,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      adminToken: ADMIN,
      outboxDir: join(dir, 'outbox'),
      startRevision: async (tree, branch, commit) => ({
        workflowId: workflowIds.revision(tree, branch, commit ?? SHA_B),
        runId: 'run-1',
        started: true,
      }),
      startBisection: async (r) => ({ workflowId: workflowIds.bisect(r.tree, r.bad, r.config, r.platform) }),
      cancelBisection: async () => {},
      startTry: async (developer) => ({ workflowId: tryWorkflowId(developer, 'abcdef012345') }),
      labWorkers: labSwitch('local'),
    });
    base = (await dash.listen(0)).url;
  });

  afterAll(async () => {
    await dash?.close();
    await db?.drop();
  });

  /** One real request per route, chosen to get its success answer where this test's deployment can give one. */
  function samples(): Record<string, { path: string; token?: string; body?: unknown; file?: Buffer; expect: number }> {
    const admin = ADMIN;
    return {
      'GET /api/openapi.json': { path: '/api/openapi.json', expect: 200 },
      'GET /api/trees': { path: '/api/trees', expect: 200 },
      'GET /api/revisions': { path: '/api/revisions', expect: 200 },
      'GET /api/revisions/{id}': { path: `/api/revisions/${fx.revB}`, expect: 200 },
      'GET /api/revisions/{id}/kcidb': { path: `/api/revisions/${fx.revB}/kcidb`, expect: 200 },
      'GET /api/builds': { path: '/api/builds', expect: 200 },
      'GET /api/builds/{id}': { path: `/api/builds/${fx.buildIds['x86_64-defconfig']}`, expect: 200 },
      'GET /api/boots': { path: '/api/boots', expect: 200 },
      'GET /api/boots/{id}': { path: `/api/boots/${fx.failingBootIds[0]}`, expect: 200 },
      'GET /api/regressions': { path: '/api/regressions', expect: 200 },
      'GET /api/regressions/{id}': { path: `/api/regressions/${regressionId}`, expect: 200 },
      'GET /api/bisections': { path: '/api/bisections', expect: 200 },
      'GET /api/bisections/{id}': { path: `/api/bisections/${fx.bisectionId}`, expect: 200 },
      'GET /api/labs': { path: '/api/labs', expect: 200 },
      'GET /api/platforms': { path: '/api/platforms', expect: 200 },
      'GET /api/flakiness': { path: '/api/flakiness', expect: 200 },
      'GET /api/stats/daily': { path: '/api/stats/daily?days=3', expect: 200 },
      'GET /api/reports': { path: '/api/reports', expect: 200 },
      'GET /api/outbox': { path: '/api/outbox', expect: 200 },
      'GET /api/outbox/{name}': { path: `/api/outbox/${fx.outboxName}`, expect: 200 },
      'GET /api/labs/{lab}/jobs': { path: '/api/labs/local/jobs', token: LOCAL_TOKEN, expect: 200 },
      // No Temporal client here: the job is found, the result cannot be delivered (a declared refusal).
      'POST /api/labs/{lab}/jobs/{id}/result': {
        path: '/api/labs/local/jobs/1/result',
        token: LOCAL_TOKEN,
        body: { status: 'pass' },
        expect: 503,
      },
      'POST /api/revisions': {
        path: '/api/revisions',
        token: admin,
        body: { tree: 'demo', branch: 'master', commit: SHA_A },
        expect: 202,
      },
      'POST /api/bisections': {
        path: '/api/bisections',
        token: admin,
        body: { tree: 'demo', good: SHA_A, bad: SHA_B, config: 'x86_64-defconfig', platform: 'qemu-x86_64' },
        expect: 202,
      },
      'POST /api/bisections/{id}/cancel': {
        path: `/api/bisections/${fx.bisectionId}/cancel`,
        token: admin,
        expect: 409,
      },
      'GET /api/labs/{lab}/worker': { path: '/api/labs/local/worker', expect: 200 },
      'GET /api/progress': { path: '/api/progress', expect: 200 },
      'POST /api/labs/{lab}/worker': {
        path: '/api/labs/local/worker',
        token: admin,
        body: { running: false },
        expect: 200,
      },
      'POST /api/try/uploads': {
        path: '/api/try/uploads?role=kernel',
        token: developerToken,
        file: Buffer.from('MZ not really a kernel: the starter judges the header, the upload only stores it'),
        expect: 201,
      },
      'POST /api/try': {
        path: '/api/try',
        token: developerToken,
        body: { kernel: 'try/alice/0123456789abcdef/kernel', platform: 'qemu-x86_64' },
        expect: 201,
      },
      // No Temporal client here: the run is found to be the developer's, it cannot be read (a declared refusal).
      'GET /api/try/{id}': { path: `/api/try/${encodeURIComponent(tryId)}`, token: developerToken, expect: 501 },
    };
  }

  it('has a real request for every route of the table, and each answers its declared status and schema', async () => {
    const table = samples();
    expect(Object.keys(table).sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const problems: string[] = [];
    const statuses: Record<string, number> = {};
    for (const route of API_ROUTES) {
      const key = `${route.method} ${route.path}`;
      const s = table[key];
      const [id] = await db.sql`select id from lab_jobs where boot_key = 'contract-job'`;
      const path = s.path.replace('/jobs/1/', `/jobs/${id.id}/`);
      const headers: Record<string, string> = s.token ? { authorization: `Bearer ${s.token}` } : {};
      if (s.body !== undefined) headers['content-type'] = 'application/json';
      if (s.file !== undefined) headers['content-type'] = 'application/octet-stream';
      const body = s.file ?? (s.body === undefined ? undefined : JSON.stringify(s.body));
      const r = await raw(base, route.method, path, headers, body);
      statuses[key] = r.status;
      problems.push(...violations(route, r.status, r.json));
    }
    expect(problems).toEqual([]);
    expect(statuses).toEqual(Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.expect])));
  });

  it('catches an answer that drifted from its schema: a field added, one dropped, one of another type', async () => {
    const route = API_ROUTES.find((r) => r.method === 'GET' && r.path === '/api/builds/{id}')!;
    const r = await raw(base, 'GET', `/api/builds/${fx.buildIds['x86_64-defconfig']}`);
    expect(violations(route, r.status, r.json)).toEqual([]);
    const { errors: _, ...dropped } = r.json.build;
    expect(violations(route, 200, { ...r.json, build: { ...r.json.build, testsExpiredAt: null } })).toEqual([
      expect.stringMatching(/build: Unrecognized key: "testsExpiredAt"/),
    ]);
    expect(violations(route, 200, { ...r.json, build: dropped })).toEqual([expect.stringMatching(/build\.errors:/)]);
    expect(violations(route, 200, { ...r.json, build: { ...r.json.build, id: String(r.json.build.id) } })).toEqual([
      expect.stringMatching(/build\.id: .*expected number/),
    ]);
    expect(violations(route, 418, {})).toEqual(['GET /api/builds/{id}: status 418 is not declared']);
  });
});
