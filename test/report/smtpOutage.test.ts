/**
 * The report workflow on the real dev server with the real mail activity:
 * an SMTP server that is down when the reports are due delays them, the
 * activity's retries with backoff deliver them once it is up, once each.
 */
import { createMailActivities } from '../../activities/report/mailer';
import { reportMessageId } from '../../domain/reports';
import { workflowIds } from '../../domain/ids';
import { allResultsInSignal, revisionReports } from '../../workflows/report';
import { freePort, waitFor } from '../../stack/ports';
import { freshDatabase, temporalClient, testDir, testWorker, uniqueId, type TestDatabase } from '../harness/services';
import { recordRevision } from './pipelineRecords';
import { startSmtpSink, type SmtpSink } from './smtpSink';

describe('an SMTP outage during the report (real worker, dev server, PostgreSQL, SMTP server)', () => {
  let db: TestDatabase;
  let late: SmtpSink | undefined;

  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await late?.close();
    await db?.drop();
  });

  it('delays the reports, which arrive once each when the SMTP server is back', async () => {
    const rev = { tree: 'mainline', branch: 'master', sha: '1234567890abcdef1234567890abcdef12345678' };
    await recordRevision(db.sql, {
      ...rev,
      describe: 'v6.1-rc3-12-g1234567890ab',
      builds: [
        {
          config: 'x86_64-defconfig',
          arch: 'x86_64',
          status: 'pass',
          warnings: 1,
          boots: [{ platform: 'qemu-x86_64', lab: 'local', status: 'pass' }],
        },
        {
          config: 'arm64-defconfig',
          arch: 'arm64',
          status: 'fail',
          errors: 1,
          errorLines: ['arch/arm64/kernel/setup.c:1:1: error: expected identifier'],
        },
      ],
    });
    const port = await freePort(); // nothing listens here yet: the server is down
    const taskQueue = uniqueId('report-outage-');
    const activities = createMailActivities({
      sql: db.sql,
      smtpUrl: `smtp://127.0.0.1:${port}`,
      outboxDir: `${testDir()}/${taskQueue}`,
      dashboardUrl: 'http://127.0.0.1:8080',
    });
    const { worker, close } = await testWorker({ taskQueue, activities });
    const { client, close: closeClient } = await temporalClient();
    try {
      await worker.runUntil(async () => {
        const threadKey = uniqueId(workflowIds.revision(rev.tree, rev.branch, rev.sha));
        const handle = await client.workflow.start(revisionReports, {
          taskQueue,
          workflowId: uniqueId(workflowIds.report(rev.tree, rev.branch, rev.sha)),
          args: [
            {
              ...rev,
              threadKey,
              delayMs: 60_000,
              recipients: { from: 'bot@bootfarm.example', to: ['lkml@example.org'], cc: [], textOnly: false },
              sendRetry: { initialIntervalMs: 500, maximumIntervalMs: 1000 },
            },
          ],
        });
        await handle.signal(allResultsInSignal);
        // both reports are tried, refused, and tried again while the server is down
        const retried = async () =>
          (await db.sql`select 1 from reports where attempts >= 2 and status <> 'sent'`).length === 2;
        await waitFor('both reports retried', async () => ((await retried()) ? true : undefined), 30_000, 100);

        late = await startSmtpSink(port);
        const result = await handle.result();
        expect(result.complete).toBe(true);
        expect(result.reports.map((r) => r.status)).toEqual(['sent', 'sent']);
        expect(late.received.map((m) => m.parsed.messageId).sort()).toEqual(
          [reportMessageId(threadKey, 'boot'), reportMessageId(threadKey, 'build')].sort(),
        );
        expect(late.received.map((m) => m.parsed.subject).sort()).toEqual([
          'mainline/master boot: 1 boot: 0 failed, 1 passed (v6.1-rc3-12-g1234567890ab)',
          'mainline/master build: 2 builds: 1 failed, 1 passed, 1 error, 1 warning (v6.1-rc3-12-g1234567890ab)',
        ]);
        const rows = await db.sql<
          { status: string; attempts: number }[]
        >`select status, attempts from reports order by kind`;
        expect(rows.map((r) => r.status)).toEqual(['sent', 'sent']);
        expect(rows.every((r) => r.attempts >= 2)).toBe(true);
      });
    } finally {
      await closeClient();
      await close();
    }
  });
});
