/**
 * One malformed request must never take a server down. The corpus goes over
 * raw sockets to the LAVA lab worker's file server (in a process of its own,
 * as in a lab worker, so a crash shows as a dead process) and to the
 * dashboard (pages, /artifacts and the API alike).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DirStore } from '../../plumbing/store/dirStore';
import { createDashboard, type Dashboard } from '../../dashboard/server';
import { freshDatabase, testDir, type TestDatabase } from '../harness/services';
import { malformedCorpus, rawRequest, requestBytes } from './rawHttp';

const ROOT = resolve(__dirname, '../..');

describe("the LAVA lab worker's file server", () => {
  let child: ChildProcess;
  let kernelUrl: URL;
  let exited: string | undefined;

  beforeAll(async () => {
    const dir = await mkdtemp(join(testDir(), 'file-server-'));
    const kernel = join(dir, 'bzImage');
    await writeFile(kernel, 'kernel image bytes');
    const script = `
      const { serveFiles } = require('./activities/labs/fileServer');
      serveFiles({ kernel: ${JSON.stringify(kernel)} }).then((s) => process.stdout.write(s.url('kernel') + '\\n'));
      process.stdin.on('end', () => process.exit(0)).resume();`;
    child = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}: ${stderr.trim()}`));
    kernelUrl = new URL(
      await new Promise<string>((res, rej) => {
        child.stdout!.once('data', (d: Buffer) => res(d.toString().trim()));
        child.once('exit', () => rej(new Error(`the file server did not start: ${stderr}`)));
      }),
    );
  });

  afterAll(() => {
    child?.stdin?.end();
  });

  const port = () => Number(kernelUrl.port);

  it('answers every malformed request with a 4xx, and keeps serving', async () => {
    const corpus = malformedCorpus(kernelUrl.pathname);
    const answers = [];
    for (const c of corpus) {
      answers.push({ name: c.name, status: (await rawRequest(port(), c.bytes)).status });
      expect({ after: c.name, exited }).toEqual({ after: c.name, exited: undefined });
    }
    expect(answers).toEqual(corpus.map((c) => ({ name: c.name, status: c.status })));
    expect((await rawRequest(port(), requestBytes(kernelUrl.pathname))).status).toBe(200);
  });

  it('serves nothing outside its prefix, and only GET and HEAD', async () => {
    expect((await rawRequest(port(), requestBytes('/'))).status).toBe(404);
    expect((await rawRequest(port(), requestBytes(`${kernelUrl.pathname}x`))).status).toBe(404);
    expect((await rawRequest(port(), requestBytes(kernelUrl.pathname, undefined, 'POST'))).status).toBe(405);
    expect((await rawRequest(port(), requestBytes(kernelUrl.pathname, undefined, 'HEAD'))).head).toMatch(
      /content-length: 18/i,
    );
    expect(exited).toBeUndefined();
  });
});

describe('the dashboard', () => {
  let db: TestDatabase;
  let dash: Dashboard;
  let port: number;
  const serverErrors: string[] = [];
  const logKey = 'builds/demo/0123456789abcdef0123456789abcdef01234567/x86_64-defconfig/build.log';

  beforeAll(async () => {
    db = await freshDatabase();
    const dir = await mkdtemp(join(testDir(), 'dashboard-malformed-'));
    const store = new DirStore(join(dir, 'artifacts'));
    await store.put(logKey, 'make: Entering directory\n');
    dash = createDashboard({
      sql: db.sql,
      store,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
      outboxDir: join(dir, 'outbox'),
      publicUrl: 'https://ci.example.org/bootfarm/',
      allowedHosts: ['bootfarm.lan'],
      logError: (message, e) => serverErrors.push(`${message} ${(e as Error)?.stack ?? e}`),
    });
    port = (await dash.listen(0)).port;
  });

  afterAll(async () => {
    await dash?.close();
    await db?.drop();
  });

  const targets = { page: '/revisions/1', artifact: `/artifacts/${logKey}`, api: '/api/revisions/1' };

  it.each(Object.entries(targets))('answers every malformed request aimed at a %s with a 4xx', async (_what, good) => {
    const corpus = malformedCorpus(good);
    const answers = [];
    for (const c of corpus) answers.push({ name: c.name, status: (await rawRequest(port, c.bytes)).status });
    expect(answers).toEqual(corpus.map((c) => ({ name: c.name, status: c.status })));
    expect(serverErrors).toEqual([]);
  });

  it('still serves pages, artifacts and the API after the corpus', async () => {
    expect((await rawRequest(port, requestBytes('/'))).status).toBe(200);
    expect((await rawRequest(port, requestBytes(targets.artifact))).status).toBe(200);
    expect((await rawRequest(port, requestBytes('/api/revisions'))).status).toBe(200);
    expect(serverErrors).toEqual([]);
  });

  it.each([
    ['a name someone else controls (DNS rebinding)', 'evil.example:8080', 400],
    ['that name with a trailing dot', 'evil.example.', 400],
    ['a subdomain of an allowed name', 'x.ci.example.org', 400],
    ['a malformed Host', 'a b', 400],
    ['a Host with a path', '127.0.0.1/x', 400],
    ['127.0.0.1 with a port', '127.0.0.1:8080', 200],
    ['[::1]', '[::1]:8080', 200],
    ['another address', '10.1.2.3', 200],
    ['localhost', 'localhost:8080', 200],
    ["publicUrl's host", 'CI.example.org', 200],
    ['a configured name', 'bootfarm.lan:8080', 200],
  ])('answers a request for %s (Host: %s) with %d', async (_what, host, status) => {
    for (const target of ['/', targets.artifact, '/api/revisions'])
      expect([target, (await rawRequest(port, requestBytes(target, [`Host: ${host}`]))).status]).toEqual([
        target,
        status,
      ]);
  });
});
