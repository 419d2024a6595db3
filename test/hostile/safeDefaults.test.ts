/**
 * Defaults that are safe: a published or short admin token is refused
 * outside the demo, secrets Bootfarm makes itself are random and private,
 * the embedded PostgreSQL has a generated password and fsync on, and a tree
 * URL's credentials are never shown.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { createConfigActivities } from '../../activities/pipeline/configRecords';
import { createResultActivities } from '../../activities/pipeline/records';
import { createDashboard } from '../../dashboard/server';
import { parseConfig, loadConfig, ConfigError } from '../../plumbing/loadConfig';
import { generatedSecret, readSecret } from '../../plumbing/secrets';
import { DirStore } from '../../plumbing/store/dirStore';
import { startPostgres } from '../../stack/postgres';
import { freePort } from '../../stack/ports';
import { freshDatabase, testDir } from '../harness/services';

const configWith = (lines: string) => `${lines}\ntrees: []\n`;

describe('the admin token', () => {
  it.each([
    ['the demo token this repository publishes', 'demo-admin-token'],
    ["docker-compose's example token", 'change-me-admin-token'],
    ['a short token', 'hunter2hunter2'],
  ])('refuses %s outside demo: true, naming the field', (_what, token) => {
    expect(() => parseConfig(configWith(`dashboard: { adminToken: ${token} }`), 'prod.yaml')).toThrow(
      new RegExp(`^prod\\.yaml:1: dashboard\\.adminToken: .*\\(outside demo: true\\)$`),
    );
  });

  it('accepts them in the demo, and a long random token anywhere', () => {
    expect(
      parseConfig(configWith('demo: true\ndashboard: { adminToken: demo-admin-token }')).dashboard.adminToken,
    ).toBe('demo-admin-token');
    const token = 'k9'.repeat(16);
    expect(parseConfig(configWith(`dashboard: { adminToken: ${token} }`)).dashboard.adminToken).toBe(token);
    expect(parseConfig(configWith('')).dashboard.adminToken).toBeUndefined();
  });

  it('refuses a weak BOOTFARM_ADMIN_TOKEN from the environment too', () => {
    const file = join(mkdtempSync(join(testDir(), 'admin-token-')), 'bootfarm.yaml');
    writeFileSync(file, configWith(''));
    expect(() => loadConfig(file, { BOOTFARM_ADMIN_TOKEN: 'admin' })).toThrow(ConfigError);
    expect(() => loadConfig(file, { BOOTFARM_ADMIN_TOKEN: 'admin' })).toThrow(/^BOOTFARM_ADMIN_TOKEN: a published/);
    expect(loadConfig(file, { BOOTFARM_ADMIN_TOKEN: 'x'.repeat(40) }).dashboard.adminToken).toBe('x'.repeat(40));
  });

  it('a generated secret is random, private to its owner, and the same on the next start', () => {
    const dir = mkdtempSync(join(testDir(), 'secrets-'));
    const a = generatedSecret(join(dir, 'admin-token'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(generatedSecret(join(dir, 'admin-token'))).toBe(a);
    expect(readSecret(join(dir, 'admin-token'))).toBe(a);
    expect(generatedSecret(join(dir, 'other'))).not.toBe(a);
  });
});

describe('the embedded PostgreSQL', () => {
  it('has a generated password (the old fixed one is refused) and fsync on', async () => {
    const dir = mkdtempSync(join(testDir(), 'pg-defaults-'));
    const port = await freePort();
    const pg = await startPostgres({ dataDir: join(dir, 'pg'), port, logFile: join(dir, 'pg.log') });
    try {
      const password = readFileSync(join(dir, 'pg.password'), 'utf8').trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(join(dir, 'pg.password')).mode & 0o777).toBe(0o600);
      expect(pg.url).toContain(encodeURIComponent(password));
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        expect((await sql`show fsync`)[0].fsync).toBe('on');
      } finally {
        await sql.end();
      }
      const old = postgres(`postgres://bootfarm:bootfarm@127.0.0.1:${port}/bootfarm`, { max: 1, onnotice: () => {} });
      await expect(old`select 1`).rejects.toThrow(/password authentication failed/);
      await old.end();
    } finally {
      await pg.stop();
    }
  }, 120_000);
});

describe("a tree URL's credentials", () => {
  it('are never stored, so no page, API answer or report shows them', async () => {
    const db = await freshDatabase();
    const url = 'https://ci-bot:ghp_tokenInTheUrl123@git.example.org/linux.git';
    try {
      await createConfigActivities({ sql: db.sql }).syncConfig({
        trees: [
          parseConfig(`trees: [{ name: demo, url: '${url}', branches: [master], buildConfigs: [c] }]
buildConfigs: [{ name: c, arch: x86_64, defconfig: defconfig }]`).trees[0],
        ],
        platforms: [],
        labs: [],
      });
      const id = await createResultActivities({ sql: db.sql }).recordRevisionStart({
        tree: 'demo',
        branch: 'master',
        url,
        sha: 'c'.repeat(40),
        describe: 'v6.1',
        subject: 's',
        author: 'a',
        authorEmail: 'a@k.test',
        committedAt: new Date().toISOString(),
        workflowId: 'rev:demo:master:x',
      });
      const [row] = await db.sql`select url from trees where name = 'demo'`;
      expect(row.url).toBe('https://git.example.org/linux.git');

      // rows written before the fix lose their credentials in the migration
      await db.sql`update trees set url = ${url}`;
      await db.sql.unsafe(
        readFileSync(join(__dirname, '../../plumbing/db/migrations/006_tree_url_credentials.sql'), 'utf8'),
      );
      expect((await db.sql`select url from trees`)[0].url).toBe('https://git.example.org/linux.git');

      const dash = createDashboard({
        sql: db.sql,
        store: new DirStore(join(mkdtempSync(join(testDir(), 'tree-url-')), 'a')),
        temporalUiUrl: 'http://127.0.0.1:8233',
        temporalNamespace: 'default',
      });
      const { url: base } = await dash.listen(0);
      try {
        for (const path of ['/', `/revisions/${id}`, `/api/revisions/${id}`, '/api/revisions']) {
          const text = await (await fetch(`${base}${path}`)).text();
          expect({ path, leaks: text.includes('ghp_tokenInTheUrl123') || text.includes('ci-bot') }).toEqual({
            path,
            leaks: false,
          });
        }
      } finally {
        await dash.close();
      }
    } finally {
      await db.drop();
    }
  });
});
