/**
 * The API's one file body, `bootfarm try` uploads (an octetStream route):
 * refused before anything is stored when the token, the role, the content
 * type or the size is wrong, whether the client declares a too large
 * length or streams one without saying; stored byte for byte at exactly
 * the limit; rate-limited per developer. The upload's size limit is the
 * deployment's (try.maxUploadMb), not a constant of the route.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { DirStore } from '../../plumbing/store/dirStore';
import { tryAdmin } from '../../plumbing/db/tryAdmin';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { API_ROUTES } from '../../dashboard/api/routes';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { raw } from './client';

const LIMIT = 1024 * 1024;

describe('POST /api/try/uploads: a file body, limited by try.maxUploadMb', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let base: string;
  let store: DirStore;
  let token: string;

  beforeAll(async () => {
    db = await freshDatabase();
    store = new DirStore(join(await mkdtemp(join(testDir(), 'try-uploads-')), 'artifacts'));
    dash = createDashboard({
      sql: db.sql,
      store,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      tryLimits: { maxUploadMb: 1, perHour: 1, uploadsPerHour: 3 },
    });
    base = (await dash.listen(0)).url;
    token = await tryAdmin(db.sql).newToken('carol');
  });

  afterAll(async () => {
    await dash?.close();
    await db?.drop();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  const upload = (body: Buffer, headers: Record<string, string> = {}, role = 'kernel') =>
    raw(
      base,
      'POST',
      `/api/try/uploads?role=${role}`,
      {
        ...auth(),
        'content-type': 'application/octet-stream',
        ...headers,
      },
      body,
    );
  const stored = async () => {
    const keys: string[] = [];
    for await (const o of store.list('try/')) keys.push(o.key);
    const [{ n }] = await db.sql`select count(*)::int as n from try_uploads`;
    return { keys, rows: n as number };
  };

  it('refuses a wrong token, role, content type, an empty file and one past the limit, storing nothing', async () => {
    const noToken = await raw(
      base,
      'POST',
      '/api/try/uploads?role=kernel',
      {
        'content-type': 'application/octet-stream',
      },
      Buffer.from('x'),
    );
    expect([noToken.status, noToken.json.field]).toEqual([401, 'authorization']);
    expect(noToken.headers['www-authenticate']).toBe('Bearer realm="bootfarm-try"');

    const role = await upload(Buffer.from('x'), {}, 'initrd');
    expect([role.status, role.json.field]).toEqual([400, 'role']);

    const json = await upload(Buffer.from('{}'), { 'content-type': 'application/json' });
    expect(json.status).toBe(415);
    expect(json.json).toEqual({
      error: 'the upload must be the file itself (content-type: application/octet-stream)',
      field: 'content-type',
    });

    const empty = await upload(Buffer.alloc(0));
    expect([empty.status, empty.json]).toEqual([400, { error: 'the upload is empty', field: 'body' }]);

    const tooLarge = { error: `the upload is larger than ${LIMIT} bytes (try.maxUploadMb)`, field: 'body' };
    const declared = await upload(randomBytes(LIMIT + 1));
    expect([declared.status, declared.json]).toEqual([413, tooLarge]);

    // streamed with no length declared: refused as the byte past the limit arrives
    const chunks = [randomBytes(LIMIT / 2), randomBytes(LIMIT / 2), randomBytes(1)];
    const streamed = await fetch(`${base}/api/try/uploads?role=kernel`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect([streamed.status, await streamed.json()]).toEqual([413, tooLarge]);

    // each refusal is one the route declares
    const route = API_ROUTES.find((r) => r.path === '/api/try/uploads')!;
    expect(Object.keys(route.refusals).map(Number)).toEqual(expect.arrayContaining([400, 413, 415, 429]));
    expect(await stored()).toEqual({ keys: [], rows: 0 });
  });

  it('stores a file of exactly the limit byte for byte, then refuses the developer past the hourly uploads', async () => {
    const file = randomBytes(LIMIT);
    const r = await upload(file);
    expect(r.status).toBe(201);
    expect(r.json).toEqual({
      key: expect.stringMatching(/^try\/carol\/[0-9a-f]{16}\/kernel$/),
      role: 'kernel',
      size: LIMIT,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    expect((await store.get(r.json.key)).equals(file)).toBe(true);

    for (const n of [1, 2]) expect((await upload(Buffer.from(`dtb ${n}`), {}, 'dtb')).status).toBe(201);
    const fourth = await upload(Buffer.from('one too many'));
    expect(fourth.status).toBe(429);
    expect(fourth.json.error).toBe('carol has made 3 uploads in the last hour (the limit is 3)');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(3000);
    expect((await stored()).rows).toBe(3);
  });
});
