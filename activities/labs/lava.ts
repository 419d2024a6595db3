/**
 * The LAVA lab: renders a LAVA job for the boot, lets LAVA download the
 * kernel from this worker, follows the job to its end and maps the outcome.
 *
 *  - a failure pattern on the console (panic, oops)          → fail
 *  - Incomplete/Canceled for the lab's reasons (error_type
 *    Infrastructure, Job, Configuration, Bug …)              → thrown: Temporal retries, then infra-error
 *  - Incomplete because the kernel never got there (a LAVA
 *    timeout or test error after the console came alive)     → fail
 *  - Complete with a failed test case                        → fail
 *  - Complete, the success pattern seen or test cases passed → pass
 *  - Complete without either                                 → fail
 *
 * Cancelling the activity cancels the LAVA job. A retry after the worker
 * died re-attaches to the job it left in LAVA (see resumeDecision).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabConfig, PlatformConfig } from '../../domain/config';
import type { BootRequest, BootResult } from '../../domain/types';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { bootLogKey, cancellationError, type BootContext, type LabAdapter } from './adapter';
import { fetchBootFiles } from './bootFiles';
import { ConsoleWatcher } from './consoleWatcher';
import { serveFiles, type FileServer } from './fileServer';
import { LavaApi, LavaApiError, type LavaJob, type LavaLogLine, type LavaTestCase } from './lavaApi';
import { renderLavaJob, type JobUrls } from './lavaJob';
import { lavaSuiteName, testsFromLava } from './lavaTests';
import { missedTestSummary } from './tests';
import { storeTestResults, testResultsKey } from '../../plumbing/store/testResults';
import type { TestSummary } from '../../domain/testResults';

export interface LavaAdapterOptions {
  /** the LAVA server's root URL */
  url: string;
  token: string;
  /** a template file, or a directory of <platform>.yaml.tmpl / <arch>.yaml.tmpl; default labs/lava/jobs/ */
  jobTemplate?: string;
  /**
   * where LAVA downloads artifacts by key (e.g. the dashboard's /artifacts/); by
   * default the adapter serves each boot's files itself on `serveHost`
   */
  artifactsUrl?: string;
  /** the address of the adapter's file server, reachable from LAVA's dispatcher; default 127.0.0.1 */
  serveHost?: string;
  /** default 2000 */
  pollMs?: number;
  /** a job still queued in LAVA after this is cancelled and the boot retried; default 1 h */
  queueTimeoutMs?: number;
  /** LAVA unreachable for this long while following a job → the boot is retried; default 60 s */
  unreachableMs?: number;
}

/** The lab failed, not the kernel: thrown so Temporal retries the boot (and records infra-error once retries run out). */
export class LavaLabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LavaLabError';
  }
}

export interface LavaVerdict {
  status: 'pass' | 'fail' | 'infra-error';
  message: string;
}

/** error_type values of LAVA that can be the kernel's doing, once its console came alive. */
const KERNEL_ERROR_TYPES = new Set(['LAVATimeout', 'Test']);

/**
 * The serial console of a LAVA job: its `target` log lines, and the `feedback`
 * lines LAVA reads from the console after the test action ended (the rest of
 * a panic trace).
 */
export function consoleLines(log: LavaLogLine[]): string[] {
  return log
    .filter((l) => l.lvl === 'target' || l.lvl === 'feedback')
    .map((l) => (typeof l.msg === 'string' ? l.msg : JSON.stringify(l.msg)));
}

/** Maps a finished LAVA job to a boot verdict (see the table at the top of this file). */
export function judgeLavaJob(
  job: Pick<LavaJob, 'id' | 'health'>,
  tests: LavaTestCase[],
  console: string[],
  platform: Pick<PlatformConfig, 'successPattern' | 'failurePatterns'>,
  /** LAVA suites of the boot's test plan (lavaSuiteName): their results are the tests', not the boot's */
  planSuites: readonly string[] = [],
): LavaVerdict {
  const watcher = new ConsoleWatcher(platform);
  for (const line of console) watcher.feed(`${line}\n`);
  const seen = watcher.end();
  const last = watcher.lastLine ? `; last console line: ${watcher.lastLine}` : '';
  const jobCase = tests.find((t) => t.suite === 'lava' && t.name === 'job');
  const errorType = String(jobCase?.metadata.error_type ?? '');
  const errorMsg = String(jobCase?.metadata.error_msg ?? '').trim();
  const lavaError = `${errorType || 'no error type'}${errorMsg ? `: ${errorMsg}` : ''}`;

  if (job.health === 'Canceled') return { status: 'infra-error', message: `LAVA job ${job.id} was canceled in LAVA` };
  if (seen?.status === 'fail') return { status: 'fail', message: seen.line };
  if (job.health !== 'Complete') {
    // the kernel booted and the plan's tests broke (a timeout, a test error): the tests' results say so
    if (planSuites.length && seen?.status === 'pass' && KERNEL_ERROR_TYPES.has(errorType))
      return { status: 'pass', message: seen.line };
    if (!(KERNEL_ERROR_TYPES.has(errorType) && console.length > 0))
      return { status: 'infra-error', message: `LAVA job ${job.id} ${job.health}: ${lavaError}` };
    return {
      status: 'fail',
      message: `${JSON.stringify(platform.successPattern)} not seen (LAVA ${lavaError})${last}`,
    };
  }
  const own = tests.filter((t) => t.suite !== 'lava' && !planSuites.includes(t.suite));
  const failed = own.filter((t) => t.result === 'fail');
  if (failed.length)
    return {
      status: 'fail',
      message: `LAVA test case failed: ${failed.map((t) => `${t.suite}/${t.name}`).join(', ')}`,
    };
  if (seen?.status === 'pass') return { status: 'pass', message: seen.line };
  if (own.some((t) => t.result === 'pass'))
    return { status: 'pass', message: `LAVA test cases passed: ${own.map((t) => `${t.suite}/${t.name}`).join(', ')}` };
  return {
    status: 'fail',
    message: `LAVA job ${job.id} complete but ${JSON.stringify(platform.successPattern)} never appeared${last}`,
  };
}

const QUEUED = new Set(['Submitted', 'Scheduling', 'Scheduled']);

/**
 * How long the board ran the job, by LAVA's clock: the boot alone, not the
 * kernel's download nor the job's wait in LAVA's own queue (a device shared
 * with other users of the LAVA instance). Null when LAVA did not say.
 */
export function lavaBootMs(job: Pick<LavaJob, 'start_time' | 'end_time'>): number | null {
  const [start, end] = [Date.parse(job.start_time ?? ''), Date.parse(job.end_time ?? '')];
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : null;
}

/** What the adapter heartbeats while it follows a job. */
export interface LavaHeartbeat {
  lavaJob: number;
  state: string;
}

function lastLavaHeartbeat(details: unknown): LavaHeartbeat | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const { lavaJob, state } = details as Partial<LavaHeartbeat>;
  return Number.isInteger(lavaJob) && typeof state === 'string' ? { lavaJob: lavaJob!, state } : undefined;
}

/**
 * A retried boot whose previous attempt heartbeated a LAVA job: follow that
 * job when the attempt died while the job was in LAVA's hands, because LAVA
 * goes on without the worker and a second job would boot the kernel twice.
 * Submit anew when the attempt saw the job end (it judged it: an infra error
 * is why this attempt exists) or the job was cancelled; cancel and submit
 * anew a job still waiting for a board when the dead worker served its files.
 */
export function resumeDecision(
  last: LavaHeartbeat,
  job: Pick<LavaJob, 'state' | 'health'>,
  servedByWorker: boolean,
): 'follow' | 'resubmit' | 'cancel-and-resubmit' {
  if (last.state === 'Finished' || job.state === 'Canceling') return 'resubmit';
  if (job.state === 'Finished') return job.health === 'Canceled' ? 'resubmit' : 'follow';
  if (QUEUED.has(job.state) && servedByWorker) return 'cancel-and-resubmit';
  return 'follow';
}

export class LavaAdapter implements LabAdapter {
  readonly kind = 'lava';
  readonly api: LavaApi;
  private readonly pollMs: number;
  private readonly queueTimeoutMs: number;
  private readonly unreachableMs: number;

  constructor(private readonly opts: LavaAdapterOptions) {
    this.api = new LavaApi(opts.url, opts.token);
    this.pollMs = opts.pollMs ?? 2000;
    this.queueTimeoutMs = opts.queueTimeoutMs ?? 3_600_000;
    this.unreachableMs = opts.unreachableMs ?? 60_000;
  }

  /** The adapter of a lab configured with `adapter: lava`. */
  static forLab(lab: LabConfig): LavaAdapter {
    if (!lab.lava) throw new Error(`lab ${lab.name} has no lava: {url, token} section`);
    return new LavaAdapter(lab.lava);
  }

  async boot(req: BootRequest, ctx: BootContext): Promise<BootResult> {
    if (ctx.signal.aborted) throw cancellationError(ctx.signal);
    const started = Date.now();
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, 'lava-'));
    let server: FileServer | undefined;
    try {
      let id = await this.previousJob(ctx);
      if (id !== undefined) ctx.log(`re-attached to LAVA job ${id} of the previous attempt: ${this.api.jobPage(id)}`);
      else {
        ctx.heartbeat({ phase: 'fetching' });
        let urls: JobUrls;
        if (this.opts.artifactsUrl) urls = this.storeUrls(req);
        else {
          const files = await fetchBootFiles(req, ctx, dir);
          const served: Record<string, string> = { kernel: files.kernel };
          if (files.ramdisk) served.ramdisk = files.ramdisk;
          if (files.dtb) served.dtb = files.dtb;
          const srv = (server = await serveFiles(served, this.opts.serveHost));
          urls = {
            kernel: srv.url('kernel'),
            ...(files.ramdisk && { ramdisk: srv.url('ramdisk') }),
            ...(files.dtb && { dtb: srv.url('dtb') }),
          };
        }
        const definition = await renderLavaJob(req, urls, this.opts.jobTemplate);
        id = await this.api.submit(definition);
        ctx.log(`submitted LAVA job ${id}: ${this.api.jobPage(id)}`);
      }
      const job = await this.follow(id, ctx);
      const [tests, logs] = await Promise.all([this.api.tests(id), this.api.logs(id)]);
      const lines = consoleLines(logs.lines);
      const logKey = bootLogKey(req.bootKey);
      const log = await ctx.store.put(logKey, lines.length ? `${lines.join('\n')}\n` : '', {
        contentType: 'text/plain; charset=utf-8',
      });
      await ctx.store.put(logKey.replace(/console\.log$/, 'lava-job.yaml'), logs.text, { contentType: 'text/yaml' });
      const planSuites = req.tests?.suites.map((p, i) => lavaSuiteName(i, p.suite)) ?? [];
      const verdict = judgeLavaJob(job, tests, lines, req.platform, planSuites);
      ctx.log(`LAVA job ${id} ${job.health}: ${verdict.status}: ${verdict.message}`);
      if (verdict.status === 'infra-error') throw new LavaLabError(`${verdict.message} (${this.api.jobPage(id)})`);
      const summary = await this.testSummary(req, ctx, verdict, tests);
      return {
        status: verdict.status,
        message: verdict.message,
        platform: req.platform.name,
        lab: req.lab,
        durationMs: lavaBootMs(job) ?? Date.now() - started,
        log,
        ...(summary ? { tests: summary } : {}),
      };
    } finally {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The plan's results from LAVA's test cases (MISS when the boot did not pass), stored next to the console log. */
  private async testSummary(
    req: BootRequest,
    ctx: BootContext,
    verdict: Pick<BootResult, 'status' | 'message'>,
    cases: LavaTestCase[],
  ): Promise<TestSummary | undefined> {
    if (!req.tests) return undefined;
    if (verdict.status !== 'pass') return missedTestSummary(req, verdict);
    const { results, problems } = testsFromLava(cases, req.tests);
    return storeTestResults(
      ctx.store,
      testResultsKey(bootLogKey(req.bootKey)),
      { bootKey: req.bootKey, source: 'lava', results, problems },
      req.tests,
    );
  }

  /**
   * The LAVA job a crashed attempt of this boot left running, when following
   * it is sound; a job LAVA could not run without the dead worker's file
   * server is cancelled so that a new one is submitted.
   */
  private async previousJob(ctx: BootContext): Promise<number | undefined> {
    const last = lastLavaHeartbeat(ctx.resumed);
    if (!last) return undefined;
    let job: LavaJob;
    try {
      job = await this.api.job(last.lavaJob);
    } catch (e) {
      if (e instanceof LavaApiError && e.status === 404) return undefined;
      throw e;
    }
    const decision = resumeDecision(last, job, !this.opts.artifactsUrl);
    if (decision === 'cancel-and-resubmit') {
      ctx.log(`LAVA job ${job.id} of the previous attempt is ${job.state} and its files were served by that attempt`);
      await this.cancel(job.id, ctx);
    }
    return decision === 'follow' ? job.id : undefined;
  }

  /** URLs under `artifactsUrl` for artifacts LAVA can fetch by key. */
  private storeUrls(req: BootRequest): JobUrls {
    const base = this.opts.artifactsUrl!.replace(/\/+$/, '');
    const url = (key: string) => `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const ramdisk = req.ramdisk?.key ?? req.platform.ramdisk ?? undefined;
    if (ramdisk?.startsWith('/'))
      throw nonRetryable(
        ErrorType.invalidInput,
        `platform ${req.platform.name}: a ramdisk path on the lab host cannot be fetched through lava.artifactsUrl`,
      );
    return {
      kernel: url(req.kernel.key),
      ...(ramdisk && { ramdisk: url(ramdisk) }),
      ...(req.dtb && { dtb: url(req.dtb.key) }),
    };
  }

  /** Polls the job until LAVA finishes it, heartbeating; cancels it when the boot is cancelled or given up. */
  private async follow(id: number, ctx: BootContext): Promise<LavaJob> {
    const submitted = Date.now();
    let unreachableSince: number | undefined;
    let state = '';
    try {
      for (;;) {
        if (ctx.signal.aborted) break;
        let job: LavaJob | undefined;
        try {
          job = await this.api.job(id);
          unreachableSince = undefined;
        } catch (e) {
          // a LAVA restart or a network blip should not cost the boot; a 4xx is not a blip
          if (!(e instanceof LavaApiError) || (e.status !== undefined && e.status < 500)) throw e;
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince > this.unreachableMs) throw e;
          ctx.log(`LAVA job ${id}: ${e.message}; retrying`);
        }
        if (job) {
          ctx.heartbeat({ lavaJob: id, state: job.state } satisfies LavaHeartbeat);
          if (job.state !== state)
            ctx.log(`LAVA job ${id}: ${job.state}${job.actual_device ? ` on ${job.actual_device}` : ''}`);
          state = job.state;
          if (job.state === 'Finished') return job;
          if (QUEUED.has(job.state) && Date.now() - submitted > this.queueTimeoutMs)
            throw new LavaLabError(
              `LAVA job ${id} still ${job.state} after ${Math.round(this.queueTimeoutMs / 1000)}s`,
            );
        }
        await sleep(this.pollMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    } catch (e) {
      await this.cancel(id, ctx);
      throw e;
    }
    await this.cancel(id, ctx);
    throw cancellationError(ctx.signal);
  }

  /** Best effort: the boot ends anyway, but the board should not stay busy for nobody. */
  private async cancel(id: number, ctx: BootContext): Promise<void> {
    try {
      await this.api.cancel(id);
      ctx.log(`cancelled LAVA job ${id}`);
    } catch (e) {
      ctx.log(`could not cancel LAVA job ${id}: ${(e as Error).message}`);
    }
  }
}
