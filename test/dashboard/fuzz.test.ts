import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DirStore } from '../../plumbing/store/dirStore';
import { hashLabToken } from '../../plumbing/labToken';
import { workflowIds } from '../../domain/ids';
import { tryWorkflowId } from '../../domain/tryRun';
import { findTool } from '../../plumbing/tools';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { LOCAL_TOKEN, labSwitch, populate } from './fixtures';
import { documentedOperations } from '../../dashboard/openapi';
import { apiDocument } from '../../dashboard/api/routes';

const MAX_EXAMPLES = 12;

describe('property-based fuzzing of the API from its OpenAPI document (schemathesis)', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let dir: string;
  const serverErrors: string[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(testDir(), 'dashboard-fuzz-'));
    await populate(db.sql, new DirStore(join(dir, 'artifacts')), join(dir, 'outbox'));
    // The fuzzer's one token (below) is a developer's too (scope try), for the try endpoints.
    await db.sql`insert into developer_tokens (developer, token_hash) values ('fuzz', ${hashLabToken(LOCAL_TOKEN)})`;
    dash = createDashboard({
      sql: db.sql,
      store: new DirStore(join(dir, 'artifacts')),
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      // One bearer token opens every door, so the fuzzer gets past authentication into validation
      // on the operator endpoints, on lab local's endpoints (the documented example lab) and on try's alike.
      adminToken: LOCAL_TOKEN,
      outboxDir: join(dir, 'outbox'),
      startRevision: async (tree, branch, commit) => ({
        workflowId: workflowIds.revision(tree, branch, commit ?? '0'.repeat(40)),
      }),
      startBisection: async (r) => ({ workflowId: workflowIds.bisect(r.tree, r.bad, r.config, r.platform) }),
      cancelBisection: async () => {},
      // a run it starts is not recorded as the developer's: GET /api/try/{id} finds none (404)
      startTry: async (developer) => ({ workflowId: tryWorkflowId(developer, '0123456789ab') }),
      labWorkers: labSwitch('local'),
      logError: (message, e) => serverErrors.push(`${message} ${(e as Error)?.stack ?? e}`),
    });
    base = (await dash.listen(0)).url;
  });

  afterAll(async () => {
    await dash?.close();
    await db?.drop();
  });

  it('finds no request that makes the API answer 5xx, nor answer outside its documented statuses, types and schemas', async () => {
    const bin = findTool('schemathesis');
    const args = [
      'run',
      `${base}/api/openapi.json`,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--max-examples',
      String(MAX_EXAMPLES),
      '--phases',
      'examples,coverage,fuzzing',
      '--workers',
      '1', // hypothesis' lambda-source cache is not thread-safe: with 2 workers it errors at random
      '--seed',
      '20240501',
      '--request-timeout',
      '10',
      '--header',
      `Authorization: Bearer ${LOCAL_TOKEN}`,
      '--suppress-health-check',
      'all',
      '--no-color',
    ];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        bin,
        args,
        {
          // A pip --target install finds its packages through PYTHONPATH.
          env: {
            ...process.env,
            PYTHONPATH: [join(dirname(bin), '..'), process.env.PYTHONPATH].filter(Boolean).join(':'),
          },
          maxBuffer: 16 * 1024 * 1024,
          timeout: 120_000,
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    expect({ code, serverErrors, tail: code ? output.slice(-6000) : '' }).toEqual({
      code: 0,
      serverErrors: [],
      tail: '',
    });
    // It really exercised the API: every documented operation, with hundreds of requests.
    const [, selected, total] = /Selected: (\d+)\/(\d+)/.exec(output) ?? [];
    expect([selected, Number(total)]).toEqual([total, documentedOperations(apiDocument()).length - 1]); // all but /api/openapi.json itself
    expect(/Tested: (\d+)/.exec(output)?.[1]).toBe(total);
    const [, generated, passed] = /(\d+) generated, (\d+) passed/.exec(output) ?? [];
    expect(Number(generated)).toBeGreaterThan(500);
    expect(passed).toBe(generated);
  }, 150_000);
});
