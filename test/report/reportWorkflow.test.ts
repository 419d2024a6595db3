/**
 * The report workflow's own logic — wait for all results or the delay,
 * whichever comes first, then a threaded follow-up — on the time-skipping
 * server with stub activities (the real activities are tested in mail.test.ts).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { keepHistory } from '../replay/record';
import { allResultsInSignal, revisionReports, type RevisionReportsInput } from '../../workflows/report';
import type { ReportActivities, RevisionReportRequest, SendResult } from '../../domain/reports';
import { reportMessageId } from '../../domain/reports';
import { workflowIds } from '../../domain/ids';
import { temporal } from '@temporalio/proto';
import { findTool } from '../../plumbing/tools';
import { waitFor } from '../../stack/ports';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/searchAttributes';
import { uniqueId, workflowBundlePath } from '../harness/services';

const HOUR = 3_600_000;
const rev = { tree: 'next', branch: 'master', sha: 'abcdef0123456789abcdef0123456789abcdef01' };
const input: RevisionReportsInput = {
  ...rev,
  recipients: { from: 'bot@bootfarm.example', to: ['list@example.org'], cc: [], textOnly: false },
  delayMs: HOUR,
  followUpWindowMs: 24 * HOUR,
};

describe('revisionReports: reports when all results are in or when the delay has passed, then a follow-up (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  const sent: RevisionReportRequest[] = [];
  /** a follow-up finds late results only if the test says some came in */
  let lateResults = true;
  /** when set, the sends wait for it (a slow SMTP server) */
  let gate: Promise<void> | null = null;
  const activities: ReportActivities = {
    async sendRevisionReport(req): Promise<SendResult> {
      sent.push(req);
      if (gate) await gate;
      const nothingNew = !!req.thread && !lateResults;
      return { messageId: req.messageId, status: nothingNew ? 'nothing-new' : 'sent', subject: `${req.kind} report` };
    },
  };

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: findTool('temporal-test-server') } },
    });
    // The test server knows no custom search attributes until told (the dev server gets them on its command line).
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTE_NAMES.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });
  beforeEach(() => {
    sent.length = 0;
    lateResults = true;
    gate = null;
  });

  async function withWorker<T>(fn: (taskQueue: string, workflowId: string) => Promise<T>): Promise<T> {
    const taskQueue = uniqueId('report-');
    const workflowId = uniqueId('report:');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: workflowBundlePath() },
      activities,
    });
    try {
      return await worker.runUntil(fn(taskQueue, workflowId));
    } finally {
      // A run left waiting by a failed assertion would hold the test server's clock for the next test.
      await env.client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
  }

  it('sends both reports as soon as the pipeline signals that all results are in, and no follow-up', async () => {
    await withWorker(async (taskQueue, workflowId) => {
      const start = await env.currentTimeMs();
      const handle = await env.client.workflow.start(revisionReports, { taskQueue, workflowId, args: [input] });
      await env.sleep(10 * 60_000);
      expect(sent).toEqual([]);
      await handle.signal(allResultsInSignal);
      const result = await handle.result();
      await keepHistory('revisionReports-all-results-in', handle);
      expect(result.complete).toBe(true);
      expect(result.reports.map((r) => [r.kind, r.followUp, r.status])).toEqual([
        ['build', 0, 'sent'],
        ['boot', 0, 'sent'],
      ]);
      for (const r of result.reports) expect(Date.parse(r.at) - start).toBeLessThan(HOUR);
      const threadKey = workflowIds.revision(rev.tree, rev.branch, rev.sha);
      expect(sent.map((s) => s.messageId).sort()).toEqual([
        reportMessageId(threadKey, 'boot'),
        reportMessageId(threadKey, 'build'),
      ]);
      expect(sent.every((s) => s.thread === undefined)).toBe(true);
    });
  });

  it('sends what is in when the delay passes, and a follow-up threaded under each report when the rest comes in', async () => {
    await withWorker(async (taskQueue, workflowId) => {
      const start = await env.currentTimeMs();
      const handle = await env.client.workflow.start(revisionReports, { taskQueue, workflowId, args: [input] });
      await env.sleep(HOUR + 60_000);
      expect(sent.map((s) => s.kind).sort()).toEqual(['boot', 'build']);
      await env.sleep(3 * HOUR);
      await handle.signal(allResultsInSignal);
      const result = await handle.result();
      await keepHistory('revisionReports-follow-up', handle);
      expect(result.complete).toBe(false);
      const [build, boot, buildFollowUp, bootFollowUp] = result.reports;
      expect(Date.parse(build.at) - start).toBeGreaterThanOrEqual(HOUR);
      expect(Date.parse(build.at) - start).toBeLessThan(HOUR + 60_000);
      expect(Date.parse(bootFollowUp.at) - start).toBeGreaterThanOrEqual(4 * HOUR);
      expect([buildFollowUp.followUp, bootFollowUp.followUp]).toEqual([1, 1]);
      const byId = new Map(sent.map((s) => [s.messageId, s]));
      expect(byId.get(buildFollowUp.messageId)!.thread).toEqual([build.messageId]);
      expect(byId.get(bootFollowUp.messageId)!.thread).toEqual([boot.messageId]);
      expect(new Set(sent.map((s) => s.messageId)).size).toBe(4);
    });
  });

  it('after partial reports and no signal, looks once more at the end of the follow-up window and ends', async () => {
    lateResults = false;
    await withWorker(async (taskQueue, workflowId) => {
      const start = await env.currentTimeMs();
      const result = await env.client.workflow.execute(revisionReports, { taskQueue, workflowId, args: [input] });
      expect(result.complete).toBe(false);
      expect(result.reports.map((r) => [r.kind, r.followUp, r.status])).toEqual([
        ['build', 0, 'sent'],
        ['boot', 0, 'sent'],
        ['build', 1, 'nothing-new'],
        ['boot', 1, 'nothing-new'],
      ]);
      expect(Date.parse(result.reports[2].at) - start).toBeGreaterThanOrEqual(25 * HOUR);
    });
  });

  it('a signal that arrives while the reports are being sent still brings the follow-up', async () => {
    let release = () => {};
    gate = new Promise<void>((resolve) => (release = resolve));
    await withWorker(async (taskQueue, workflowId) => {
      const handle = await env.client.workflow.start(revisionReports, { taskQueue, workflowId, args: [input] });
      const result = handle.result(); // lets the server skip time to the end of the delay
      await waitFor('both reports in flight', async () => (sent.length === 2 ? true : undefined), 20_000, 20);
      await handle.signal(allResultsInSignal);
      release();
      const { complete, reports } = await result;
      expect(complete).toBe(false);
      expect(reports.map((r) => [r.followUp, r.status])).toEqual([
        [0, 'sent'],
        [0, 'sent'],
        [1, 'sent'],
        [1, 'sent'],
      ]);
      // the follow-up came with the signal, not at the end of the follow-up window
      expect(Date.parse(reports[3].at) - Date.parse(reports[0].at)).toBeLessThan(HOUR);
    });
  });
});
