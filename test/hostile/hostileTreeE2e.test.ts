/**
 * The hostile tree from outside, end to end on the run's real Temporal dev
 * server: every commit from the second on carries a Makefile that dumps its
 * environment (and what it can see) into the build log, and the commit that
 * breaks the boot has an author address that is a list and 30 Signed-off-by
 * trailers. The bisection builds and boots for real, finds and confirms the
 * culprit and mails it over a real SMTP server: no secret of the builder in
 * any stored log, nobody mailed beyond the list and the cap of 10.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linearHistory } from '../../fixtures/generator';
import { freePort } from '../../stack/ports';
import { freshDatabase, temporalClient, type TestDatabase } from '../harness/services';
import { startSmtpSink, type SmtpSink } from '../report/smtpSink';
import { runRealBisection } from '../bisect/support/realBisection';

const SECRETS = {
  DATABASE_URL: 'postgres://bootfarm:e2e-db-secret-77@127.0.0.1:5433/bootfarm',
  S3_SECRET_ACCESS_KEY: 'e2e-s3-secret-91',
  BOOTFARM_ADMIN_TOKEN: 'e2e-admin-token-secret-0123456789',
  SMTP_URL: 'smtps://bot:e2e-smtp-secret-55@mail.example.org',
};
const LIST = 'list@lists.example.org';
const MALLORY = { name: 'Mallory', email: 'dev@k.test, list-a@victim.test' };
const SIGNERS = Array.from({ length: 30 }, (_, i) => `Signed-off-by: Signer ${i} <s${i}@k.test>`);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

let root: string;
let db: TestDatabase;
let smtp: SmtpSink;
const saved: Record<string, string | undefined> = {};
beforeAll(async () => {
  for (const [k, v] of Object.entries(SECRETS)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  root = await mkdtemp(join(tmpdir(), 'bf-hostile-e2e-'));
  db = await freshDatabase();
  smtp = await startSmtpSink(await freePort());
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await smtp?.close();
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

it('a hostile tree bisected end to end leaves no secret in any stored log and mails no one beyond the cap', async () => {
  const { repo, shas } = await linearHistory(join(root, 'repo'), 6, {
    2: { subject: 'kbuild: a Makefile that dumps its environment', effect: 'hostile-build' },
    4: {
      subject: 'x86: fixture: panic in early init',
      effect: 'break-boot',
      author: MALLORY,
      trailers: [...SIGNERS, `Acked-by: ${LIST}`],
    },
  });
  const { client, close } = await temporalClient();
  try {
    const { result, artifactsDir, outbox } = await runRealBisection({
      root,
      db,
      client,
      url: repo.url,
      good: shas[1],
      bad: shas[6],
      smtpUrl: smtp.url,
      builderEnv: { GITHUB_TOKEN: 'ghp_e2e-builder-env-secret' },
    });

    // the hostile Makefile does not stop the bisection: the culprit is found and confirmed
    expect([result.verdict.status, result.verdict.confirmed, result.verdict.culprit?.sha]).toEqual([
      'found',
      true,
      shas[4],
    ]);

    // every stored log and artifact: builds (each dumped its environment), boots, the outbox
    const stored = [...(await filesUnder(artifactsDir)), ...(await filesUnder(outbox))];
    const logs = stored.filter((f) => f.endsWith('.log'));
    expect(logs.length).toBeGreaterThan(5);
    let dumped = 0;
    for (const file of stored) {
      const text = await readFile(file, 'latin1');
      if (text.includes('--- hostile: environment ---')) dumped++;
      for (const secret of [...Object.values(SECRETS), 'ghp_e2e-builder-env-secret'])
        expect({ file, secret, found: text.includes(secret) }).toEqual({ file, secret, found: false });
    }
    expect(dumped).toBeGreaterThan(2); // the hostile Makefile really ran, in several builds

    // one mail, to 10 signers and the list: not the list hidden in the author address, not signers 10..29
    const [mail] = await smtp.waitForCount(1);
    const signers = Array.from({ length: 10 }, (_, i) => `s${i}@k.test`);
    expect([...mail.envelopeTo].sort()).toEqual([...signers, LIST].sort());
    expect(mail.raw).not.toMatch(/^(To|Cc|Bcc):.*victim\.test/im);
    expect(mail.parsed.text).toContain('dev@k.test, list-a@victim.test: names 2 addresses, not one');
    expect(mail.parsed.text).toContain('Signer 29 <s29@k.test>: beyond the cap of 10');
    expect(mail.parsed.text).toContain('Kernel panic - not syncing: fixture: x86: fixture: panic in');
  } finally {
    await close();
  }
}, 600_000);
