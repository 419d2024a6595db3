/**
 * End to end on the run's real Temporal dev server: the bisect workflow
 * drives the real buildBoot workflow, whose builds are real makes of the
 * fixture kernel and whose boots are real QEMU boots, then verifies and
 * reverts the culprit, records it in PostgreSQL and mails it into an outbox.
 * The second bisection runs on a board that fails 1 boot in 5 (seeded: the
 * real boot happens, the board then "loses" it) over a history whose panic
 * was introduced, fixed, and introduced again. About a minute in all.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Client } from '@temporalio/client';
import { linearHistory } from '../../fixtures/generator';
import { sha12 } from '../../domain/ids';
import { freshDatabase, temporalClient, type TestDatabase } from '../harness/services';
import { runRealBisection } from './support/realBisection';

const ann = { name: 'Ann Developer', email: 'ann@example.org' };

let root: string;
let db: TestDatabase;
let client: Client;
let closeClient: () => Promise<void>;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-e2e-'));
  db = await freshDatabase();
  ({ client, close: closeClient } = await temporalClient());
});
afterAll(async () => {
  await closeClient?.();
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

async function theMail(outbox: string) {
  const name = (await readdir(outbox))[0];
  return simpleParser(await readFile(join(outbox, name)));
}

it('bisects a real boot regression with real builds and QEMU boots to its culprit, confirms it, and mails its author', async () => {
  const { repo, shas } = await linearHistory(join(root, 'repo'), 6, {
    4: { subject: 'x86: fixture: panic in early init', effect: 'break-boot', author: ann },
  });
  const { result, workflowId, built, outbox } = await runRealBisection({
    root: join(root, 'e2e'),
    ccacheDir: join(root, 'ccache'),
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
  // the culprit's verification booted the build its search step made: no commit was built twice
  expect(new Set(built).size).toBe(built.length);
  // the steps were real builds and boots, recorded by buildBoot
  const boots = await db.sql`select sha, status, run from boots where tree = 'e2e' order by sha, run`;
  const culpritBoots = boots.filter((b) => b.sha === shas[4]).map((b) => b.status);
  expect(culpritBoots.length).toBeGreaterThanOrEqual(2); // verify runs 0 and 1 (a search step's run 0 shares the row)
  expect(new Set(culpritBoots)).toEqual(new Set(['fail']));
  expect(boots.some((b) => b.sha === shas[3] && b.status === 'pass')).toBe(true);
  const [row] = await db.sql`select status, culprit_sha from bisections where workflow_id = ${workflowId}`;
  expect(row).toEqual({ status: 'found', culprit_sha: shas[4] });

  const mail = await theMail(outbox);
  expect(JSON.stringify(mail.to)).toContain('ann@example.org');
  expect(mail.text).toContain('Kernel panic - not syncing: fixture: x86: fixture: panic in');
});

it('on a board failing 1 boot in 5, over a panic that came, went and came back, names the breakage nearest the bad commit and says the history is not monotonic', async () => {
  // 2 panics, 4 fixes it, 8 panics again; k-section of 1..9 with 2 boards tests 3 (fails) and 6 (boots) first
  const { repo, shas } = await linearHistory(join(root, 'bfb-repo'), 9, {
    2: { subject: 'fixture: gadget panics at boot', effect: 'break-boot' },
    4: { subject: 'fixture: gadget no longer panics', effect: 'fix-boot' },
    8: { subject: 'x86: fixture: widget panics at boot', effect: 'break-boot', author: ann },
  });
  const { result, built, flaked, outbox } = await runRealBisection({
    root: join(root, 'bfb'),
    ccacheDir: join(root, 'ccache'),
    tree: 'bfb',
    db,
    client,
    url: repo.url,
    good: shas[0],
    bad: shas[9],
    settings: { flakeRate: 0.2 },
    flaky: { seed: 7, rate: 0.2, shas },
  });
  // the board did lie during this bisection, and the bisection was not fooled
  expect(flaked.length).toBeGreaterThan(0);
  expect(result.verdict).toMatchObject({
    status: 'found',
    confirmed: true,
    culprit: { sha: shas[8] },
    nonMonotonic: [{ bad: shas[3], good: shas[6], goodBefore: shas[0] }],
  });
  // told the flake rate: every search step booted at least twice; builds were made once per commit
  for (const s of result.steps.filter((x) => x.role === 'candidate')) expect(s.boots).toBeGreaterThanOrEqual(2);
  expect(new Set(built).size).toBe(built.length);
  const mail = await theMail(outbox);
  expect(mail.subject).toContain('[not monotonic]');
  expect(mail.text).toContain(`fixed: ${sha12(shas[3])} fails, its descendant ${sha12(shas[6])} boots`);
});
