/**
 * The bisection activities on real fixture trees (real git mirrors), real
 * PostgreSQL and the real mailer writing into an outbox.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { createBisectActivities } from '../../activities/bisect';
import { DirStore } from '../../plumbing/store/dirStore';
import { commitChange, createBranch, linearHistory, mergeBranch, type FixtureRepo } from '../../fixtures/generator';
import { runOk } from '../../plumbing/git/command';
import type {
  BisectActivities,
  BisectRange,
  BisectReportRequest,
  BisectStep,
  BisectVerdict,
} from '../../domain/bisect';
import { formatBisectLog } from '../../workflows/bisect/bisectLog';
import { WIDTH } from '../../activities/report/textLayout';
import { freshDatabase, type TestDatabase } from '../harness/services';

let root: string;
let db: TestDatabase;
let acts: BisectActivities;
let outbox: string;
let store: DirStore;
const DASHBOARD = 'http://dash.example:8080';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-acts-'));
  db = await freshDatabase();
  outbox = join(root, 'outbox');
  store = new DirStore(join(root, 'artifacts'));
  acts = createBisectActivities({
    sql: db.sql,
    mirrorDir: join(root, 'mirrors'),
    store,
    outboxDir: outbox,
    dashboardUrl: DASHBOARD,
  });
});
afterAll(async () => {
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

const ann = { name: 'Ann Developer', email: 'ann@example.org' };
const trailers = [
  'Reviewed-by: Rob Reviewer <rob@example.org>',
  'Acked-by: ack@example.org',
  `Signed-off-by: ${ann.name} <${ann.email}>`,
  'Signed-off-by: Max Maintainer <max@example.org>',
  'Cc: cc-only@example.org',
];

describe('bisection range', () => {
  it('bisects a rebased branch from the merge base of its last good and first bad revisions', async () => {
    const { repo, shas } = await linearHistory(join(root, 'rebased'), 3);
    // "next" as it was (good), then rebuilt on top of a newer base (bad): good is not an ancestor of bad
    await createBranch(repo, 'next-old', shas[2]);
    const good = await commitChange(repo, { subject: 'next: old topic' }, { branch: 'next-old' });
    await createBranch(repo, 'next', shas[3]);
    await commitChange(repo, { subject: 'next: topic, rebased' }, { branch: 'next' });
    const bad = await commitChange(repo, { subject: 'next: new topic', effect: 'break-boot' }, { branch: 'next' });
    const range = await acts.bisectRange({ tree: 'rebased', url: repo.url, good, bad });
    expect(range.fromMergeBase).toBe(true);
    expect(range.givenGood).toBe(good);
    expect(range.good).toEqual([shas[2]]);
    expect(range.size).toBe(3); // shas[3], the rebased topic, the new topic
    expect(range.badSubject).toBe('next: new topic');
    expect(range.describes[bad]).toMatch(/^v0\.1-5-g[0-9a-f]{12}$/);

    const linear = await acts.bisectRange({ tree: 'rebased', url: repo.url, good: shas[1], bad: shas[3] });
    expect(linear).toMatchObject({ fromMergeBase: false, good: [shas[1]], size: 2 });
  });

  it('refuses a good commit the tree does not have, without retrying', async () => {
    const { repo, shas } = await linearHistory(join(root, 'unknown'), 1);
    await expect(
      acts.bisectRange({ tree: 'unknown', url: repo.url, good: 'deadbeef'.repeat(5), bad: shas[1] }),
    ).rejects.toMatchObject({ nonRetryable: true });
  });
});

describe('culprit and revert', () => {
  let repo: FixtureRepo;
  let culprit: string;
  let parent: string;
  let bad: string;
  beforeAll(async () => {
    let shas: string[];
    ({ repo, shas } = await linearHistory(join(root, 'culprit'), 2));
    parent = shas[2];
    culprit = await commitChange(repo, {
      subject: 'drivers: fixture: init the widget early',
      effect: 'break-boot',
      author: ann,
      trailers,
    });
    await commitChange(repo, { subject: 'fixture: unrelated change' });
    bad = await commitChange(repo, { subject: 'fixture: another unrelated change' });
  });

  it("names the culprit's author and the entries of its Signed-off-by, Reviewed-by and Acked-by trailers (not Cc)", async () => {
    const info = await acts.culpritInfo({ tree: 'culprit', url: repo.url, sha: culprit });
    expect(info).toMatchObject({
      sha: culprit,
      subject: 'drivers: fixture: init the widget early',
      author: ann.name,
      authorEmail: ann.email,
    });
    expect(info.trailerEntries).toEqual([
      'Rob Reviewer <rob@example.org>',
      'ack@example.org',
      'Ann Developer <ann@example.org>',
      'Max Maintainer <max@example.org>',
    ]);
    // what a revert that did not help sends the search back to
    expect(info.parents).toEqual([parent]);
  });

  it('reverts the culprit on the bad commit in the mirror, on its own ref, the same commit every time', async () => {
    const first = await acts.prepareRevert({ tree: 'culprit', url: repo.url, bad, culprit });
    if (!first.applied) throw new Error(first.reason);
    expect(first.ref).toBe(`refs/bootfarm/revert/${bad.slice(0, 12)}-${culprit.slice(0, 12)}`);
    const mirror = join(root, 'mirrors', 'culprit.git');
    const git = async (...args: string[]) => (await runOk('git', ['-C', mirror, ...args])).stdout.trim();
    expect(await git('rev-parse', first.ref)).toBe(first.sha);
    expect(await git('rev-parse', `${first.sha}^`)).toBe(bad);
    expect(await git('log', '-1', '--format=%s', first.sha)).toBe('Revert "drivers: fixture: init the widget early"');
    // the revert removes exactly the files the culprit added
    expect(await git('diff', '--name-status', bad, first.sha)).toBe(
      await git('diff', '--name-status', '-R', `${culprit}^`, culprit),
    );
    expect(await git('diff', '--name-only', bad, first.sha)).toMatch(/^drivers\/fixture\/panic_[a-z0-9_]+\.c$/m);
    // deleted ref (a mirror fetch prunes it): made again, identical
    await git('update-ref', '-d', first.ref);
    const again = await acts.prepareRevert({ tree: 'culprit', url: repo.url, bad, culprit });
    expect(again).toEqual(first);
    expect(await git('worktree', 'list', '--porcelain')).not.toMatch(/bootfarm-revert/);
  });

  it('says so when the revert does not apply cleanly', async () => {
    const { repo: r, shas } = await linearHistory(join(root, 'conflict'), 1);
    const edit = async (line: string, subject: string) => {
      await runOk(
        'sh',
        [
          '-c',
          'printf "%s\\n" "$1" >> Makefile && git add Makefile && git -c user.name=T -c user.email=t@example.org commit -q -m "$2"',
          'sh',
          line,
          subject,
        ],
        { cwd: r.dir },
      );
      return (await runOk('git', ['-C', r.dir, 'rev-parse', 'HEAD'])).stdout.trim();
    };
    const c = await edit('# one', 'touch the Makefile');
    const b = await edit('# two', 'touch the same lines again');
    expect(shas).toHaveLength(2);
    const outcome = await acts.prepareRevert({ tree: 'conflict', url: r.url, bad: b, culprit: c });
    expect(outcome).toEqual({ applied: false, reason: 'the revert conflicts in Makefile' });
  });
});

describe('the verdicts against the commit graph', () => {
  let shas: string[];
  /** a commit on a branch forked from shas[3]: beside shas[4..6] */
  let side: string;
  const check = (good: string[], bad: string[]) => acts.bisectGraphCheck({ tree: 'graph', url, good, bad });
  let url: string;
  beforeAll(async () => {
    let repo: FixtureRepo;
    ({ repo, shas } = await linearHistory(join(root, 'graph'), 6));
    url = repo.url;
    await createBranch(repo, 'side', shas[3]);
    side = await commitChange(repo, { subject: 'side: one' }, { branch: 'side' });
  });

  it('finds a bad commit that a good one descends from, with the nearest good commits on both sides', async () => {
    expect(await check([shas[0], shas[1], shas[4], shas[5]], [shas[2], shas[6]])).toEqual({
      contradictions: [{ bad: shas[2], good: shas[4], goodBefore: shas[1] }],
      bound: shas[6],
    });
    // no good commit before it: only the fix is named
    expect(await check([shas[3]], [shas[1], shas[6]])).toEqual({
      contradictions: [{ bad: shas[1], good: shas[3] }],
      bound: shas[6],
    });
  });

  it('bounds the search by the bad commit that reaches the fewest commits no good one reaches (ties: the last given)', async () => {
    expect(await check([shas[0], shas[3]], [shas[6], shas[5]])).toEqual({ contradictions: [], bound: shas[5] });
    expect(await check([shas[0], shas[3]], [shas[5], shas[6]])).toEqual({ contradictions: [], bound: shas[5] });
    // side and shas[4] each reach one commit beyond shas[3]
    expect(await check([shas[3]], [side, shas[4]])).toEqual({ contradictions: [], bound: shas[4] });
    expect(await check([shas[3]], [shas[4], side])).toEqual({ contradictions: [], bound: side });
  });

  it('refuses anything but full shas before running git', async () => {
    await expect(check([shas[0]], ['HEAD; rm -rf /'])).rejects.toThrow(/invalid ref|bad commit/);
    await expect(check(['--all'], [shas[6]])).rejects.toThrow(/good commit/);
  });
});

describe('records and report', () => {
  const workflowId = 'bisect:demo:abcdef012345:x86_64-defconfig:qemu-x86_64';
  let repo: FixtureRepo;
  let range: BisectRange;
  let culprit: string;
  let steps: BisectStep[];

  beforeAll(async () => {
    const h = await linearHistory(join(root, 'report'), 2);
    repo = h.repo;
    await createBranch(repo, 'topic', h.shas[2]);
    culprit = await commitChange(
      repo,
      { subject: 'x86: fixture: panic during early init', effect: 'break-boot', author: ann, trailers },
      { branch: 'topic' },
    );
    await mergeBranch(repo, { into: 'master', from: 'topic' });
    const bad = await commitChange(repo, { subject: 'fixture: later change' });
    range = await acts.bisectRange({ tree: 'demo', url: repo.url, good: h.shas[2], bad });
    const step = (
      sha: string,
      subject: string,
      verdict: BisectStep['verdict'],
      role: BisectStep['role'],
      round: number,
    ): BisectStep => ({
      sha,
      subject,
      role,
      round,
      verdict,
      build: 'pass',
      boot: verdict === 'good' ? 'pass' : 'fail',
      attempts: 1,
      workflowId: `${workflowId}:step:${sha.slice(0, 12)}`,
      message: '',
    });
    steps = [
      step(bad, range.badSubject, 'bad', 'bad-endpoint', 0),
      step(h.shas[2], range.goodSubjects[0], 'good', 'good-endpoint', 0),
      step(culprit, 'x86: fixture: panic during early init', 'bad', 'candidate', 1),
    ];
    await store.put(
      'boots/demo/culprit.log',
      [
        'Linux-fixture version 0.1',
        ...Array.from({ length: 40 }, (_, i) => `[    0.0${i}] init step ${i}`),
        'Kernel panic - not syncing: fixture: x86: fixture: panic during early init',
        'end',
      ].join('\n'),
    );
  });

  function request(verdict: BisectVerdict, id = workflowId): BisectReportRequest {
    return {
      workflowId: id,
      bisectionId: 7,
      tree: 'demo',
      url: repo.url,
      branch: 'master',
      configName: 'x86_64-defconfig',
      platform: 'qemu-x86_64',
      lab: 'local',
      range,
      verdict,
      bisectLog: formatBisectLog(range, steps, {
        kind: 'found',
        sha: culprit,
        subject: 'x86: fixture: panic during early init',
      }),
      failingLogKey: 'boots/demo/culprit.log',
      failurePatterns: ['Kernel panic'],
      report: {
        to: ['list@lists.example.org'],
        cc: ['ci@example.org'],
        from: 'Bootfarm <bot@example.org>',
        textOnly: false,
      },
    };
  }
  const checks = (revert: 'passed' | 'failed') => [
    { name: 'endpoints' as const, outcome: 'passed' as const, detail: 'good passed; bad failed' },
    { name: 'verify' as const, outcome: 'passed' as const, detail: 'failed 3 of 3' },
    { name: 'revert' as const, outcome: revert, detail: revert === 'passed' ? 'passed 3 of 3' : 'failed 1, passed 2' },
  ];

  it('records a bisection, links it from its regression, and stores its steps, verdict and bisect log', async () => {
    const [reg] =
      await db.sql`insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha)
      values ('demo', 'master', 'boot', 'x86_64-defconfig', 'qemu-x86_64', 'new', ${range.good[0]}, ${range.bad}) returning id`;
    const start = {
      workflowId,
      tree: 'demo',
      branch: 'master',
      good: range.givenGood,
      bad: range.bad,
      config: 'x86_64-defconfig',
      platform: 'qemu-x86_64',
      lab: 'local',
    };
    const id = await acts.recordBisectionStart(start);
    expect(await acts.recordBisectionStart(start)).toBe(id); // a retried activity: same row
    const [linked] = await db.sql`select bisection_id from regressions where id = ${reg.id}`;
    expect(Number(linked.bisection_id)).toBe(id);

    await acts.recordBisectionSteps({ workflowId, steps: steps.slice(0, 2) });
    const verdict: BisectVerdict = {
      status: 'found',
      summary: 'first bad commit',
      culprit: { sha: culprit, subject: 'x' },
      confirmed: true,
      checks: checks('passed'),
    };
    const bisectLog = request(verdict).bisectLog;
    await acts.recordBisectionEnd({ workflowId, verdict, steps, bisectLog });
    const [row] =
      await db.sql`select status, culprit_sha, verdict, steps, bisect_log, finished_at from bisections where id = ${id}`;
    expect(row).toMatchObject({ status: 'found', culprit_sha: culprit, bisect_log: bisectLog });
    expect(row.verdict).toEqual(verdict);
    expect(row.steps).toHaveLength(3);
    expect(row.finished_at).toBeInstanceOf(Date);
  });

  async function readMail(messageId: string) {
    const files = await readdir(outbox);
    const name = files.find((f) => f.startsWith(messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._+@-]/g, '_')))!;
    return simpleParser(await readFile(join(outbox, name)));
  }

  it('mails a confirmed culprit to its author and trailer people, the list in copy, once, with the evidence in 80 columns', async () => {
    const verdict: BisectVerdict = {
      status: 'found',
      summary: 'first bad commit: …',
      culprit: { sha: culprit, subject: 'x86: fixture: panic during early init' },
      confirmed: true,
      checks: checks('passed'),
    };
    const sent = await acts.sendBisectReport(request(verdict));
    expect(sent.status).toBe('sent');
    expect(await acts.sendBisectReport(request(verdict))).toMatchObject({
      messageId: sent.messageId,
      status: 'already-sent',
    });
    const mail = await readMail(sent.messageId);
    const addresses = (a: typeof mail.to) =>
      (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
    expect(addresses(mail.to)).toEqual(['ann@example.org', 'rob@example.org', 'ack@example.org', 'max@example.org']);
    expect(addresses(mail.cc)).toEqual(['list@lists.example.org', 'ci@example.org']);
    expect(mail.subject).toBe(
      `demo/master bisection: boot on qemu-x86_64 (x86_64-defconfig): ${culprit.slice(0, 12)} "x86: fixture: panic during early init"`,
    );
    const text = mail.text!;
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(WIDTH);
    expect(text).toContain(`commit ${culprit}`);
    expect(text).toContain('Author: Ann Developer <ann@example.org>');
    expect(text).toContain(`Good:      ${range.good[0]}`);
    expect(text).toContain('x86_64-defconfig');
    expect(text).toContain('Kernel panic - not syncing: fixture: x86: fixture: panic during');
    expect(text).not.toContain('init step 3\n'); // an excerpt, not the whole log
    expect(text).toContain(`${DASHBOARD}/artifacts/boots/demo/culprit.log`);
    expect(text).toContain(`${DASHBOARD}/bisections/7`);
    expect(text).toMatch(/verify +passed +failed 3 of 3/);
    expect(text).toContain('git bisect start\n');
    expect(text).toContain(`git bisect bad ${culprit}\n`);
    // comment lines of the log wrap as comments, so `git bisect replay` still takes it
    expect(text).toContain(`# first bad commit: [${culprit}] x86: fixture:\n#   panic during early init`);
    expect(mail.html).toContain('git bisect log');
  });

  it('says in the mail that the history is not monotonic, names both transitions, and lists the re-tests', async () => {
    const [before, fails, boots] = ['1'.repeat(40), '2'.repeat(40), '3'.repeat(40)];
    const verdict: BisectVerdict = {
      status: 'found',
      summary: `first bad commit: ${culprit.slice(0, 12)}; the history is not monotonic: …`,
      culprit: { sha: culprit, subject: 'x86: fixture: panic during early init' },
      confirmed: true,
      checks: checks('passed'),
      nonMonotonic: [{ bad: fails, good: boots, goodBefore: before }],
      notes: [
        `re-tested ${fails.slice(0, 12)} (a failing commit is an ancestor of a booting one): 0 passes, 3 failures in all: bad, as before`,
      ],
    };
    const sent = await acts.sendBisectReport(request(verdict, `${workflowId}-nonmonotonic`));
    const mail = await readMail(sent.messageId);
    expect(mail.subject).toContain('[not monotonic]');
    const text = mail.text!;
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(WIDTH);
    expect(text).toContain('History not monotonic');
    expect(text).toContain(`broke: ${before.slice(0, 12)} boots, ${fails.slice(0, 12)} fails`);
    expect(text).toContain(`fixed: ${fails.slice(0, 12)} fails, its descendant ${boots.slice(0, 12)} boots`);
    expect(text).toContain('Re-tests and what they changed');
    expect(text).toContain(`re-tested ${fails.slice(0, 12)}`);
    expect(mail.html).toContain('History not monotonic');
  });

  it('mails an unconfirmed culprit to the list only, never to its author', async () => {
    const verdict: BisectVerdict = {
      status: 'found',
      summary: 'first bad commit (unconfirmed: revert failed)',
      culprit: { sha: culprit, subject: 'x86: fixture: panic during early init' },
      confirmed: false,
      checks: checks('failed'),
    };
    const sent = await acts.sendBisectReport(request(verdict, `${workflowId}-unconfirmed`));
    expect(sent.recipients).toEqual(['list@lists.example.org', 'ci@example.org']);
    const mail = await readMail(sent.messageId);
    expect(mail.subject).toContain('[unconfirmed]');
    expect(mail.text).toContain('UNCONFIRMED');
    expect(mail.text).toMatch(/revert +FAILED/);
  });
});
