/**
 * What an API lab runs: a lab that runs no Bootfarm worker and holds no
 * Temporal, database or bucket credentials, only its lab token. It lists its
 * pending jobs on the dashboard (`GET /api/labs/<lab>/jobs`), fetches each
 * job's kernel from the artifact URL the job names, boots it in QEMU (the
 * QEMU lab adapter, as a QEMU lab worker would), and posts the verdict with
 * the console log (`POST <resultUrl>`). A post the dashboard cannot take
 * (unreachable, 5xx) is sent again with backoff until it is taken or
 * refused (409: the boot no longer waits for it).
 *
 *   BOOTFARM_LAB_TOKEN=… node --require tsx/cjs deploy/apiLabClient.ts \
 *     --dashboard http://dashboard:8080 --lab NAME --work-dir DIR [--boards 2]
 *
 * SIGTERM: takes no new jobs, finishes the running boots, posts them, exits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { QemuAdapter } from '../activities/labs/qemu';
import type { LabAdapter } from '../activities/labs/adapter';
import type { ArtifactRef, BootRequest, BootResult } from '../domain/types';
import type { ArtifactStore, StoredObject } from '../plumbing/store/types';

export interface ApiLabClientOptions {
  /** the dashboard's base URL, as the lab reaches it */
  dashboard: string;
  lab: string;
  token: string;
  workDir: string;
  /** boots at once (default 1) */
  boards?: number;
  pollIntervalMs?: number;
  log?: (line: string) => void;
  adapter?: LabAdapter;
}

interface Job {
  id: number;
  bootKey: string;
  request: BootRequest;
  artifacts: Record<string, string>;
  resultUrl: string;
}

type Verdict = { status: 'pass' | 'fail' | 'infra-error'; message: string; log?: string; durationMs: number };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The job's files as the QEMU adapter asks for them: downloads from the
 * artifact URLs of the job (by the key the request names), and the console
 * log kept in memory for the post. Nothing else of a store is needed.
 */
class JobFiles implements ArtifactStore {
  readonly kind = 's3' as const;
  log?: string;
  constructor(private readonly urls: Map<string, string>) {}

  private url(key: string): string {
    const url = this.urls.get(key);
    if (!url) throw new Error(`the job names no download for ${key}`);
    return url;
  }

  async get(key: string): Promise<Buffer> {
    const res = await fetch(this.url(key), { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`GET ${this.url(key)}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async getToFile(key: string, path: string): Promise<void> {
    writeFileSync(path, await this.get(key));
  }

  async put(key: string, body: Buffer | string): Promise<ArtifactRef> {
    this.log = body.toString();
    return { key, size: Buffer.byteLength(body) };
  }

  putFile(): Promise<ArtifactRef> {
    return Promise.reject(new Error('an API lab stores nothing but the console log'));
  }
  getStream(): Promise<Readable> {
    return Promise.reject(new Error('not used by an API lab'));
  }
  async exists(key: string): Promise<boolean> {
    return this.urls.has(key);
  }
  async delete(): Promise<void> {}
  // an API lab lists and sweeps nothing of its own
  async *list(): AsyncIterable<StoredObject> {}
  async sweepTemporary(): Promise<number> {
    return 0;
  }
}

export class ApiLabClient {
  private readonly running = new Map<number, Promise<void>>();
  private stopping = false;
  private readonly log: (line: string) => void;
  private readonly adapter: LabAdapter;
  private readonly abort = new AbortController();

  constructor(private readonly opts: ApiLabClientOptions) {
    this.log = opts.log ?? ((line) => process.stdout.write(`api-lab ${opts.lab}: ${line}\n`));
    this.adapter = opts.adapter ?? new QemuAdapter();
  }

  private async call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<unknown> {
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new HttpError(res.status, `${method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  }

  private async pendingJobs(): Promise<Job[]> {
    const url = `${this.opts.dashboard.replace(/\/+$/, '')}/api/labs/${encodeURIComponent(this.opts.lab)}/jobs`;
    const body = (await this.call('GET', url)) as { items: Job[] };
    return body.items;
  }

  private async boot(job: Job): Promise<Verdict> {
    const req = job.request;
    const urls = new Map<string, string>();
    for (const role of ['kernel', 'dtb', 'ramdisk'] as const) {
      const ref = req[role];
      if (ref && job.artifacts[role]) urls.set(ref.key, job.artifacts[role]);
    }
    const files = new JobFiles(urls);
    const workDir = `${this.opts.workDir}/jobs`;
    mkdirSync(workDir, { recursive: true });
    const started = Date.now();
    try {
      const r: BootResult = await this.adapter.boot(req, {
        store: files,
        workDir,
        heartbeat: () => {},
        signal: this.abort.signal,
        log: (line) => this.log(`job ${job.id}: ${line}`),
      });
      if (r.status !== 'pass' && r.status !== 'fail')
        return { status: 'infra-error', message: r.message, log: files.log, durationMs: r.durationMs };
      return { status: r.status, message: r.message, log: files.log, durationMs: r.durationMs };
    } catch (e) {
      // the lab failed (download, QEMU), not the kernel
      return { status: 'infra-error', message: (e as Error).message, durationMs: Date.now() - started };
    }
  }

  /** Posts until the dashboard takes the result or refuses it for good. */
  private async post(job: Job, verdict: Verdict): Promise<void> {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.call('POST', job.resultUrl, verdict);
        this.log(`job ${job.id} (${job.bootKey}): posted ${verdict.status}`);
        return;
      } catch (e) {
        const status = e instanceof HttpError ? e.status : 0;
        if ([400, 401, 403, 404, 409].includes(status)) {
          this.log(`job ${job.id}: the dashboard refused the result: ${(e as Error).message}`);
          return;
        }
        this.log(`job ${job.id}: posting failed (${(e as Error).message}); again in ${delay / 1000}s`);
        await sleep(delay);
      }
    }
  }

  private async handle(job: Job): Promise<void> {
    this.log(`job ${job.id}: booting ${job.request.configName} on ${job.request.platform.name}`);
    const verdict = await this.boot(job);
    await this.post(job, verdict);
  }

  /** Polls and boots until stop(); then lets the running boots finish. */
  async run(): Promise<void> {
    const boards = this.opts.boards ?? 1;
    const interval = this.opts.pollIntervalMs ?? 2000;
    let failing = false;
    while (!this.stopping) {
      try {
        const jobs = await this.pendingJobs();
        if (failing) this.log('the dashboard answers again');
        failing = false;
        for (const job of jobs) {
          if (this.running.size >= boards) break;
          if (this.running.has(job.id)) continue;
          const done = this.handle(job).finally(() => this.running.delete(job.id));
          this.running.set(job.id, done);
        }
      } catch (e) {
        if (!failing) this.log(`cannot list jobs: ${(e as Error).message}; trying again every ${interval / 1000}s`);
        failing = true;
      }
      await sleep(interval);
    }
    await Promise.all(this.running.values());
  }

  stop(): void {
    this.stopping = true;
  }
}

function option(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

function main(): void {
  const argv = process.argv.slice(2);
  const usage =
    'usage: apiLabClient.ts --dashboard URL --lab NAME --work-dir DIR [--boards N] (token in BOOTFARM_LAB_TOKEN)';
  const dashboard = option(argv, '--dashboard');
  const lab = option(argv, '--lab');
  const workDir = option(argv, '--work-dir');
  const token = process.env.BOOTFARM_LAB_TOKEN;
  const boards = Number(option(argv, '--boards') ?? 1);
  const fail = (why: string) => {
    process.stderr.write(`api-lab: ${why}\n`);
    process.exit(2);
  };
  if (!dashboard || !lab || !workDir) return fail(usage);
  if (!/^https?:\/\//.test(dashboard)) return fail(`--dashboard ${JSON.stringify(dashboard)}: an http(s) URL`);
  if (!token) return fail('BOOTFARM_LAB_TOKEN is not set: the token `bootfarm lab token NAME` printed');
  if (!Number.isInteger(boards) || boards < 1 || boards > 64) return fail('--boards: a number from 1 to 64');
  const client = new ApiLabClient({ dashboard, lab, token, workDir, boards });
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      process.stdout.write(`api-lab ${lab}: draining (${sig}): finishing running boots, taking no new jobs\n`);
      client.stop();
    });
  process.stdout.write(`api-lab ${lab}: polling ${dashboard} with ${boards} board(s)\n`);
  client.run().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`api-lab ${lab}: ${e.message}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();
