import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mjml2html from 'mjml';
import { simpleParser } from 'mailparser';
import { createMailActivities, emlFileName } from '../../activities/report/mailer';
import { buildReportModel } from '../../activities/report/model';
import { reportMjml } from '../../activities/report/html';
import { reportMessageId, type RevisionReportRequest } from '../../domain/reports';
import { workflowIds } from '../../domain/ids';
import { freePort } from '../../stack/ports';
import { freshDatabase, testDir, uniqueId, type TestDatabase } from '../harness/services';
import { recordBoot, recordRevision, type RecordedBuild } from './pipelineRecords';
import { startSmtpSink, type SmtpSink } from './smtpSink';
import { WIDTH } from '../../activities/report/textLayout';

const DASHBOARD = 'http://127.0.0.1:8080';
const ok = (platform: string, lab = 'local') => ({ platform, lab, status: 'pass' as const });

/** next-20261127: 5 builds (one fails with 2 errors, 5 warnings in all), 10 boots: 1 failed, 8 passed, 1 offline. */
function nextBuilds(today: boolean): RecordedBuild[] {
  return [
    {
      config: 'x86_64-defconfig',
      arch: 'x86_64',
      status: 'pass',
      warnings: 3,
      boots: [
        today ? { platform: 'qemu-x86_64', lab: 'local', status: 'fail' } : ok('qemu-x86_64'),
        // the confirmation re-run of the failure fails too: still one boot in the counts
        ...(today ? [{ platform: 'qemu-x86_64', lab: 'local', status: 'fail' as const, run: 1 }] : []),
        ok('qemu-x86_64-uefi'),
        ok('qemu-x86_64-smp'),
      ],
    },
    {
      config: 'i386-defconfig',
      arch: 'i386',
      status: 'pass',
      warnings: 2,
      boots: [ok('qemu-i386'), ok('qemu-i386-smp')],
    },
    {
      config: 'arm64-defconfig',
      arch: 'arm64',
      status: 'pass',
      boots: [
        ok('qemu-arm64'),
        ok('qemu-arm64-gic3'),
        today
          ? { platform: 'rk3399-rock-pi-4b', lab: 'lab-baylibre', status: 'offline' }
          : ok('rk3399-rock-pi-4b', 'lab-baylibre'),
      ],
    },
    {
      config: 'x86_64-kasan',
      arch: 'x86_64',
      status: today ? 'fail' : 'pass',
      errors: today ? 2 : 0,
      errorLines: today
        ? [
            "drivers/gpu/drm/amd/amdgpu/amdgpu_device.c:4321:17: error: implicit declaration of function 'amdgpu_device_ip_resume_phase3'; did you mean 'amdgpu_device_ip_resume_phase2'? [-Werror=implicit-function-declaration]",
            'make[4]: *** [scripts/Makefile.build:229: drivers/gpu/drm/amd/amdgpu/amdgpu_device.o] Error 1',
          ]
        : [],
    },
    { config: 'riscv-defconfig', arch: 'riscv', status: 'pass', boots: [ok('qemu-riscv64'), ok('qemu-riscv64-smp')] },
  ];
}

/** The counts straight from the database, by the same rule as the reports: per (config, platform, lab) the latest run with a verdict. */
async function dbCounts(db: TestDatabase, tree: string, sha: string) {
  const boots = await db.sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from (
      select distinct on (config, platform, lab) status from boots where tree = ${tree} and sha = ${sha}
      order by config, platform, lab, (status in ('pass', 'fail')) desc, run desc) latest
    group by status`;
  const [builds] = await db.sql<{ total: number; failed: number; passed: number; errors: number; warnings: number }[]>`
    select count(*)::int as total, count(*) filter (where status = 'fail')::int as failed, count(*) filter (where status = 'pass')::int as passed,
           sum(errors)::int as errors, sum(warnings)::int as warnings
    from builds where tree = ${tree} and sha = ${sha}`;
  const by = (s: string) => boots.find((b) => b.status === s)?.n ?? 0;
  return {
    boots: {
      total: boots.reduce((n, b) => n + b.n, 0),
      failed: by('fail'),
      passed: by('pass'),
      offline: by('offline'),
    },
    builds,
  };
}

function textProblems(text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if ([...line].length > WIDTH) problems.push(`line ${i + 1} has ${[...line].length} columns: ${line}`);
    if (/\s$/.test(line)) problems.push(`line ${i + 1} ends in white space: ${JSON.stringify(line)}`);
    if (/<\/?[a-z][a-z0-9]*[\s/>]/i.test(line)) problems.push(`line ${i + 1} has an HTML tag: ${line}`);
    if (/&(#\d+|#x[0-9a-f]+|[a-z]+);/i.test(line)) problems.push(`line ${i + 1} has an HTML entity: ${line}`);
  });
  return problems;
}

describe('build and boot report emails over a real SMTP server, from results in a real PostgreSQL', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  const tree = 'next';
  let branch: string;
  const sha = 'abcdef0123456789abcdef0123456789abcdef01';
  const prevSha = '0123456789abcdef0123456789abcdef01234567';
  const recipients = {
    from: 'Bootfarm <bot@bootfarm.example>',
    to: ['linux-next@vger.kernel.org'],
    cc: ['sfr@canb.auug.org.au'],
    textOnly: false,
  };

  beforeAll(async () => {
    db = await freshDatabase();
    smtp = await startSmtpSink(await freePort());
    branch = 'master';
    await recordRevision(db.sql, { tree, branch, sha: prevSha, describe: 'next-20261126', builds: nextBuilds(false) });
    await db.sql`update revisions set started_at = now() - interval '1 day' where sha = ${prevSha}`;
    await recordRevision(db.sql, { tree, branch, sha, describe: 'next-20261127', builds: nextBuilds(true) });
  });
  afterAll(async () => {
    await smtp?.close();
    await db?.drop();
  });

  const outbox = () => mkdtempSync(join(testDir(), 'outbox-'));
  const request = (kind: 'build' | 'boot', extra: Partial<RevisionReportRequest> = {}): RevisionReportRequest => ({
    tree,
    branch,
    sha,
    kind,
    messageId: reportMessageId(uniqueId(workflowIds.revision(tree, branch, sha)), kind),
    recipients,
    ...extra,
  });

  it('sends a boot report and a build report whose subjects carry the counts in the database, regressions first', async () => {
    const acts = createMailActivities({ sql: db.sql, smtpUrl: smtp.url, outboxDir: outbox(), dashboardUrl: DASHBOARD });
    const before = smtp.received.length;
    const boot = await acts.sendRevisionReport(request('boot'));
    const build = await acts.sendRevisionReport(request('build'));
    expect([boot.status, build.status]).toEqual(['sent', 'sent']);
    const [bootMail, buildMail] = (await smtp.waitForCount(before + 2)).slice(before).map((m) => m.parsed);

    expect(bootMail.subject).toBe('next/master boot: 10 boots: 1 failed, 8 passed with 1 offline (next-20261127)');
    expect(buildMail.subject).toBe(
      'next/master build: 5 builds: 1 failed, 4 passed, 2 errors, 5 warnings (next-20261127)',
    );
    const counts = await dbCounts(db, tree, sha);
    const [, total, failed, passed, offline] = /(\d+) boots: (\d+) failed, (\d+) passed with (\d+) offline/
      .exec(bootMail.subject!)!
      .map(Number);
    expect({ total, failed, passed, offline }).toEqual(counts.boots);
    const [, bTotal, bFailed, bPassed, errors, warnings] =
      /(\d+) builds: (\d+) failed, (\d+) passed, (\d+) errors, (\d+) warnings/.exec(buildMail.subject!)!.map(Number);
    expect({ total: bTotal, failed: bFailed, passed: bPassed, errors, warnings }).toEqual(counts.builds);

    expect(bootMail.messageId).toBe(boot.messageId);
    expect(bootMail.to).toMatchObject({ text: 'linux-next@vger.kernel.org' });
    expect(bootMail.cc).toMatchObject({ text: 'sfr@canb.auug.org.au' });

    const text = bootMail.text!;
    expect(textProblems(text)).toEqual([]);
    expect(text).toContain(`Commit:    ${sha}`);
    expect(text).toContain('Describe:  next-20261127');
    const [{ id: revisionId }] =
      await db.sql`select id from revisions where tree = ${tree} and branch = ${branch} and sha = ${sha}`;
    expect(text).toContain(`Dashboard: ${DASHBOARD}/revisions/${revisionId}\n`);
    // regressions lead, before the failures and the offline platforms
    const regressionAt = text.indexOf('Regressions (1)');
    expect(regressionAt).toBeGreaterThan(0);
    expect(regressionAt).toBeLessThan(text.indexOf('Boot failures by platform'));
    expect(text.indexOf('Boot failures by platform')).toBeLessThan(text.indexOf('Offline platforms (1)'));
    expect(text).toMatch(
      /x86_64-defconfig on qemu-x86_64: boot\n\s+last good: next-20261126 \(0123456789ab\), failing since today/,
    );
    // each failure links its dashboard page (which shows the log); the HTML part also links the raw log
    const [failing] =
      await db.sql`select id, log_key from boots where sha = ${sha} and platform = 'qemu-x86_64' and run = 1`;
    expect(text).toContain(`\n      ${DASHBOARD}/boots/${failing.id}\n`);
    expect(failing.log_key).toBe(`boots/build:next:${sha}:x86_64-defconfig:qemu-x86_64:local:1/console.log`);
    expect(bootMail.html).toContain(`href="${DASHBOARD}/artifacts/${failing.log_key}"`);
    expect(text).toMatch(/rk3399-rock-pi-4b: arm64-defconfig \(lab-baylibre\)/);

    const buildText = buildMail.text!;
    expect(textProblems(buildText)).toEqual([]);
    expect(buildText).toContain('Errors summary (2)');
    expect(buildText).toMatch(/Warnings summary \(5\)\n-+\n {3}3 {2}x86_64-defconfig\n {3}2 {2}i386-defconfig/);
    // the long compiler line is wrapped, not lost
    expect(buildText.replace(/\n\s+/g, ' ')).toContain(
      "did you mean 'amdgpu_device_ip_resume_phase2'? [-Werror=implicit-function-declaration]",
    );
    expect(buildText.indexOf('Regressions (1)')).toBeLessThan(buildText.indexOf('Build failures (1)'));

    // the HTML alternative tells the same subject and escapes what it shows
    expect(bootMail.html).toContain('next/master boot: 10 boots: 1 failed, 8 passed with 1 offline (next-20261127)');
    expect(buildMail.html).toContain('did you mean &#39;amdgpu_device_ip_resume_phase2&#39;?');
  });

  it('renders the HTML part from MJML with no validation error (strict)', async () => {
    const model = await buildReportModel(db.sql, { tree, branch, sha, dashboardUrl: DASHBOARD });
    for (const kind of ['build', 'boot'] as const) {
      const result = await mjml2html(reportMjml(model, kind), { validationLevel: 'strict' });
      expect(result.errors).toEqual([]);
      expect(result.html).toMatch(/^<!doctype html>/i);
    }
  });

  it('a list that wants text only gets no HTML part', async () => {
    const acts = createMailActivities({ sql: db.sql, smtpUrl: smtp.url, outboxDir: outbox(), dashboardUrl: DASHBOARD });
    const before = smtp.received.length;
    await acts.sendRevisionReport(request('boot', { recipients: { ...recipients, textOnly: true } }));
    const [mail] = (await smtp.waitForCount(before + 1)).slice(before);
    expect(mail.parsed.html).toBe(false);
    expect(mail.raw).not.toMatch(/text\/html/i);
    expect(mail.parsed.text).toContain('Regressions (1)');
  });

  it('exactly one message arrives when the send is retried after it succeeded', async () => {
    const acts = createMailActivities({ sql: db.sql, smtpUrl: smtp.url, outboxDir: outbox(), dashboardUrl: DASHBOARD });
    const req = request('boot');
    const before = smtp.received.length;
    expect((await acts.sendRevisionReport(req)).status).toBe('sent');
    expect((await acts.sendRevisionReport(req)).status).toBe('already-sent');
    // a second worker process (fresh activities, same database) retrying the workflow
    const other = createMailActivities({
      sql: db.sql,
      smtpUrl: smtp.url,
      outboxDir: outbox(),
      dashboardUrl: DASHBOARD,
    });
    expect((await other.sendRevisionReport(req)).status).toBe('already-sent');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received.slice(before).map((m) => m.parsed.messageId)).toEqual([req.messageId]);
    const [row] =
      await db.sql`select status, attempts, transport, eml_key from reports where message_id = ${req.messageId}`;
    expect(row).toEqual({ status: 'sent', attempts: 1, transport: 'smtp', eml_key: emlFileName(req.messageId) });
  });

  it('a crash between the hand-over and the sent record is not resent: one message, recorded unconfirmed', async () => {
    const dir = outbox();
    const crashing = createMailActivities({
      sql: db.sql,
      smtpUrl: smtp.url,
      outboxDir: dir,
      dashboardUrl: DASHBOARD,
      claimLeaseMs: 1500,
      onHandedOver: () => {
        throw new Error('worker killed');
      },
    });
    const req = request('build');
    const before = smtp.received.length;
    await expect(crashing.sendRevisionReport(req)).rejects.toThrow('worker killed');
    await smtp.waitForCount(before + 1);

    const retry = createMailActivities({
      sql: db.sql,
      smtpUrl: smtp.url,
      outboxDir: dir,
      dashboardUrl: DASHBOARD,
      claimLeaseMs: 1500,
    });
    // within the lease the earlier attempt might still be talking to the server: come back later
    await expect(retry.sendRevisionReport(req)).rejects.toMatchObject({
      type: 'BfReportInFlight',
      nonRetryable: false,
    });
    await new Promise((r) => setTimeout(r, 1600));
    expect((await retry.sendRevisionReport(req)).status).toBe('unconfirmed');
    expect((await retry.sendRevisionReport(req)).status).toBe('unconfirmed');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received.slice(before).map((m) => m.parsed.messageId)).toEqual([req.messageId]);
    const [row] = await db.sql`select status, last_error from reports where message_id = ${req.messageId}`;
    expect(row.status).toBe('unconfirmed');
    expect(row.last_error).toMatch(/not resent/);
  });

  it('an unreachable SMTP server fails the attempt, and the retry delivers once the server is up', async () => {
    const port = await freePort();
    const acts = createMailActivities({
      sql: db.sql,
      smtpUrl: `smtp://127.0.0.1:${port}`,
      outboxDir: outbox(),
      dashboardUrl: DASHBOARD,
    });
    const req = request('boot');
    await expect(acts.sendRevisionReport(req)).rejects.toThrow(/ECONNREFUSED|connect/i);
    const [failed] = await db.sql`select status, last_error from reports where message_id = ${req.messageId}`;
    expect(failed.status).toBe('failed');
    const late = await startSmtpSink(port);
    try {
      expect((await acts.sendRevisionReport(req)).status).toBe('sent');
      expect(late.received.map((m) => m.parsed.messageId)).toEqual([req.messageId]);
      const [row] = await db.sql`select status, attempts from reports where message_id = ${req.messageId}`;
      expect(row).toEqual({ status: 'sent', attempts: 2 });
    } finally {
      await late.close();
    }
  });

  it('a follow-up threads under the report with In-Reply-To and References, lists the late results, and is skipped when nothing is new', async () => {
    const acts = createMailActivities({ sql: db.sql, smtpUrl: smtp.url, outboxDir: outbox(), dashboardUrl: DASHBOARD });
    // a revision of its own, since a late boot is added to it
    const rev = { tree, branch: 'pending-fixes', sha: 'fedcba9876543210fedcba9876543210fedcba98' };
    await recordRevision(db.sql, { ...rev, describe: 'next-20261127', builds: nextBuilds(true) });
    const wf = workflowIds.revision(rev.tree, rev.branch, rev.sha);
    const request = (kind: 'boot', extra: Partial<RevisionReportRequest>): RevisionReportRequest => ({
      ...rev,
      kind,
      messageId: '',
      recipients,
      ...extra,
    });
    const first = request('boot', { messageId: reportMessageId(wf, 'boot') });
    await acts.sendRevisionReport(first);
    const quiet = await acts.sendRevisionReport(
      request('boot', { messageId: reportMessageId(wf, 'boot-followup-0'), thread: [first.messageId] }),
    );
    expect(quiet.status).toBe('nothing-new');

    // a lab that was late posts its boot: a new platform of x86_64-defconfig
    const [{ id }] =
      await db.sql`select id from builds where tree = ${tree} and sha = ${rev.sha} and config = 'x86_64-defconfig'`;
    await recordBoot(
      db.sql,
      rev,
      Number(id),
      { config: 'x86_64-defconfig', arch: 'x86_64' },
      { platform: 'minnowboard-turbot', lab: 'lab-late', status: 'pass' },
    );
    const before = smtp.received.length;
    const follow = await acts.sendRevisionReport(
      request('boot', { messageId: reportMessageId(wf, 'boot-followup-1'), thread: [first.messageId] }),
    );
    expect(follow.status).toBe('sent');
    const [mail] = (await smtp.waitForCount(before + 1)).slice(before);
    expect(mail.parsed.inReplyTo).toBe(first.messageId);
    expect(mail.parsed.references).toBe(first.messageId);
    expect(mail.parsed.subject).toBe(
      'Re: next/pending-fixes boot: 11 boots: 1 failed, 9 passed with 1 offline (next-20261127)',
    );
    expect(mail.parsed.text).toMatch(/^Follow-up: 1 boot result came in after the first report/);
    expect(textProblems(mail.parsed.text!)).toEqual([]);
    const [row] = await db.sql`select kind, in_reply_to from reports where message_id = ${follow.messageId}`;
    expect(row).toEqual({ kind: 'follow-up', in_reply_to: first.messageId });
  });

  describe('the embedded outbox (no SMTP relay configured)', () => {
    it('writes each report once as an .eml file the dashboard can list, with the same exactly-once record', async () => {
      const dir = outbox();
      const acts = createMailActivities({ sql: db.sql, outboxDir: dir, dashboardUrl: DASHBOARD });
      const req = request('boot');
      expect((await acts.sendRevisionReport(req)).status).toBe('sent');
      expect((await acts.sendRevisionReport(req)).status).toBe('already-sent');
      expect(readdirSync(dir)).toEqual([emlFileName(req.messageId)]);
      const parsed = await simpleParser(readFileSync(join(dir, emlFileName(req.messageId))));
      expect(parsed.subject).toBe('next/master boot: 10 boots: 1 failed, 8 passed with 1 offline (next-20261127)');
      expect(parsed.messageId).toBe(req.messageId);
      const [row] = await db.sql`select status, transport, eml_key from reports where message_id = ${req.messageId}`;
      expect(row).toEqual({ status: 'sent', transport: 'outbox', eml_key: emlFileName(req.messageId) });
    });

    it('after a crash the file itself says whether the dead attempt delivered: present → sent, absent → written now', async () => {
      const dir = outbox();
      const crash = () => {
        throw new Error('worker killed');
      };
      const delivered = request('build');
      const crashed = createMailActivities({
        sql: db.sql,
        outboxDir: dir,
        dashboardUrl: DASHBOARD,
        claimLeaseMs: 200,
        onHandedOver: crash,
      });
      await expect(crashed.sendRevisionReport(delivered)).rejects.toThrow('worker killed');
      await new Promise((r) => setTimeout(r, 250));
      const retry = createMailActivities({ sql: db.sql, outboxDir: dir, dashboardUrl: DASHBOARD, claimLeaseMs: 200 });
      expect((await retry.sendRevisionReport(delivered)).status).toBe('already-sent');
      expect((await db.sql`select status from reports where message_id = ${delivered.messageId}`)[0].status).toBe(
        'sent',
      );

      // an attempt that died after its claim and before the file appeared
      const lost = request('build');
      await db.sql`insert into reports (message_id, kind, tree, subject, status, attempts, attempt_at, transport)
                   values (${lost.messageId}, 'build', ${tree}, 'x', 'sending', 1, now() - interval '1 second', 'outbox')`;
      expect(existsSync(join(dir, emlFileName(lost.messageId)))).toBe(false);
      expect((await retry.sendRevisionReport(lost)).status).toBe('sent');
      expect(existsSync(join(dir, emlFileName(lost.messageId)))).toBe(true);
      expect(readdirSync(dir).sort()).toEqual([emlFileName(delivered.messageId), emlFileName(lost.messageId)].sort());
    });
  });
});
