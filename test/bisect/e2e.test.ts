/**
 * End to end on the run's real Temporal dev server: the bisect workflow
 * drives the real buildBoot workflow, whose builds are real makes of the
 * fixture kernel and whose boots are real QEMU boots, then verifies and
 * reverts the culprit, records it in PostgreSQL and mails it into an outbox.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { linearHistory } from '../../fixtures/generator';
import { freshDatabase, temporalClient, type TestDatabase } from '../harness/services';
import { runRealBisection } from './support/realBisection';

let root: string;
let db: TestDatabase;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-e2e-'));
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

it('bisects a real boot regression with real builds and QEMU boots to its culprit, confirms it, and mails its author', async () => {
  const ann = { name: 'Ann Developer', email: 'ann@example.org' };
  const { repo, shas } = await linearHistory(join(root, 'repo'), 6, {
    4: { subject: 'x86: fixture: panic in early init', effect: 'break-boot', author: ann },
  });
  const { client, close } = await temporalClient();
  try {
    const { result, workflowId, outbox } = await runRealBisection({
      root,
      db,
      client,
      url: repo.url,
      good: shas[1],
      bad: shas[6],
    });

    expect(result.verdict).toMatchObject({
      status: 'found',
      confirmed: true,
      culprit: { sha: shas[4], subject: 'x86: fixture: panic in early init' },
    });
    expect(result.verdict.checks.map((c) => c.outcome)).toEqual(['passed', 'passed', 'passed']);
    // the steps were real builds and boots, recorded by buildBoot
    const boots = await db.sql`select sha, status, run from boots where tree = 'e2e' order by sha, run`;
    const culpritBoots = boots.filter((b) => b.sha === shas[4]).map((b) => b.status);
    expect(culpritBoots.length).toBeGreaterThanOrEqual(2); // verify runs 0 and 1 (a search step's run 0 shares the row)
    expect(new Set(culpritBoots)).toEqual(new Set(['fail']));
    expect(boots.some((b) => b.sha === shas[3] && b.status === 'pass')).toBe(true);
    const [row] = await db.sql`select status, culprit_sha from bisections where workflow_id = ${workflowId}`;
    expect(row).toEqual({ status: 'found', culprit_sha: shas[4] });

    const name = (await readdir(outbox))[0];
    const mail = await simpleParser(await readFile(join(outbox, name)));
    expect(JSON.stringify(mail.to)).toContain('ann@example.org');
    expect(mail.text).toContain('Kernel panic - not syncing: fixture: x86: fixture: panic in');
  } finally {
    await close();
  }
});
