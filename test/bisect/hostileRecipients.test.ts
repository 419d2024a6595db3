/**
 * A culprit commit chooses who gets the bisection report. Its author address
 * may be a list (`dev@k.test, list-a@victim.test`, which git accepts) and it
 * may carry 500 Signed-off-by trailers: the report mails one mailbox per
 * entry, at most the cap beyond the tree's list, and names everyone it left
 * out in the mail's text. Real git mirror, PostgreSQL and mailer (outbox).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { createBisectActivities } from '../../activities/bisect';
import { chooseRecipients, singleMailbox } from '../../activities/report/recipients';
import { DirStore } from '../../plumbing/store/dirStore';
import { commitChange, linearHistory } from '../../fixtures/generator';
import type { BisectActivities, BisectReportRequest } from '../../domain/bisect';
import { parseConfig } from '../../plumbing/loadConfig';
import { WIDTH } from '../../activities/report/textLayout';
import { freshDatabase, type TestDatabase } from '../harness/services';

const LIST = 'list@lists.example.org';
const HOSTILE_AUTHOR = { name: 'Mallory', email: 'dev@k.test, list-a@victim.test' };
const SIGNERS = Array.from({ length: 500 }, (_, i) => `Signed-off-by: Signer ${i} <s${i}@k.test>`);

describe('mailboxes from commits, one per entry', () => {
  it.each([
    ['Ann Dev <ann@example.org>', 'ann@example.org'],
    ['ann@example.org', 'ann@example.org'],
    ['"Dev, Ann" <ann@example.org>', 'ann@example.org'],
  ])('takes %s as %s', (entry, address) => expect(singleMailbox(entry)).toEqual({ address }));

  it.each([
    ['dev@k.test, list-a@victim.test', 'names 2 addresses, not one'],
    ['dev@k.test; list-a@victim.test', 'names 2 addresses, not one'],
    ['team: a@victim.test, b@victim.test;', 'is an address group'],
    ['<a@k.test> <b@victim.test>', 'is ambiguous (an address where the name goes)'],
    ['a@k.test\nBcc: b@victim.test', 'has a control character'],
    ['Ann', 'names no address'],
    ['ann@localhost', 'is not a valid address'],
    ['ann@-bad-.test', 'is not a valid address'],
    ['', 'names no address'],
  ])('refuses %j: %s', (entry, reason) => expect(singleMailbox(entry)).toEqual({ reason }));

  it('deduplicates case-insensitively, leaves out the list, caps, and names each entry left out', () => {
    const choice = chooseRecipients(['A@k.test', 'a@k.test', LIST, 'x, y@k.test', 'b@k.test', 'c@k.test'], {
      max: 2,
      exclude: [LIST],
    });
    expect(choice).toEqual({
      chosen: ['A@k.test', 'b@k.test'],
      notMailed: [
        { entry: 'x, y@k.test', reason: 'names 2 addresses, not one' },
        { entry: 'c@k.test', reason: 'beyond the cap of 2' },
      ],
    });
  });
});

describe('a bisection report for a hostile culprit commit', () => {
  let root: string;
  let db: TestDatabase;
  let acts: BisectActivities;
  let outbox: string;
  let req: BisectReportRequest;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bf-hostile-recipients-'));
    db = await freshDatabase();
    outbox = join(root, 'outbox');
    acts = createBisectActivities({
      sql: db.sql,
      mirrorDir: join(root, 'mirrors'),
      store: new DirStore(join(root, 'artifacts')),
      outboxDir: outbox,
      dashboardUrl: 'http://dash.example:8080',
    });
  });
  afterAll(async () => {
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('mails no one beyond the cap, never the addresses smuggled into the author field, and names who was left out', async () => {
    const { repo, shas } = await linearHistory(join(root, 'tree'), 2);
    const culprit = await commitChange(repo, {
      subject: 'mm: innocent-looking change',
      effect: 'break-boot',
      author: HOSTILE_AUTHOR,
      trailers: [...SIGNERS, `Acked-by: ${LIST}`, 'Reviewed-by: team: r1@victim.test, r2@victim.test;'],
    });
    const info = await acts.culpritInfo({ tree: 'tree', url: repo.url, sha: culprit });
    expect(info.authorEmail).toBe(HOSTILE_AUTHOR.email); // git took it as written
    const range = await acts.bisectRange({ tree: 'tree', url: repo.url, good: shas[2], bad: culprit });
    req = {
      workflowId: 'bisect:tree:hostile',
      bisectionId: 1,
      tree: 'tree',
      url: repo.url,
      configName: 'x86_64-defconfig',
      platform: 'qemu-x86_64',
      lab: 'local',
      range,
      verdict: {
        status: 'found',
        summary: 'first bad commit',
        culprit: { sha: culprit, subject: 'mm: innocent-looking change' },
        confirmed: true,
        checks: [],
      },
      bisectLog: `git bisect start\ngit bisect bad ${culprit}\n`,
      report: { to: [LIST], cc: [], from: 'Bootfarm <bot@example.org>', textOnly: false },
    };
    const sent = await acts.sendBisectReport(req);
    expect(sent.status).toBe('sent');
    const signers = Array.from({ length: 10 }, (_, i) => `s${i}@k.test`);
    expect(sent.recipients).toEqual([...signers, LIST]);

    const [eml] = (await readdir(outbox)).filter((f) => f.endsWith('.eml'));
    const raw = await readFile(join(outbox, eml), 'utf8');
    const mail = await simpleParser(raw);
    const addresses = (a: AddressObject | AddressObject[] | undefined) =>
      (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
    expect(addresses(mail.to)).toEqual(signers);
    expect(addresses(mail.cc)).toEqual([LIST]);
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/victim\.test|s10@k\.test|dev@k\.test/);

    const text = mail.text!;
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(WIDTH);
    const notMailed = text.slice(text.indexOf('Not mailed'), text.indexOf('Checks'));
    expect(notMailed).toContain('dev@k.test, list-a@victim.test: names 2 addresses, not one');
    expect(notMailed).toContain('team: r1@victim.test, r2@victim.test;: is an address group');
    for (let i = 10; i < 500; i++) expect(notMailed).toContain(`Signer ${i} <s${i}@k.test>: beyond the cap of 10`);
    expect(notMailed).not.toContain(`<s9@k.test>`);
  });

  it("takes the cap from the tree's report config (default 10)", async () => {
    const tree = parseConfig(`trees: [{ name: t, url: /x, branches: [master], buildConfigs: [c] }]
buildConfigs: [{ name: c, arch: x86_64, defconfig: defconfig }]`).trees[0];
    expect(tree.report.maxCommitRecipients).toBe(10);
    const sent = await acts.sendBisectReport({
      ...req,
      workflowId: 'bisect:tree:hostile-cap-3',
      report: { ...req.report, maxCommitRecipients: 3 },
    });
    expect(sent.recipients).toEqual(['s0@k.test', 's1@k.test', 's2@k.test', LIST]);
  });
});
