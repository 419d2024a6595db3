/**
 * The part of LAVA's REST API (v0.2, token auth) a lab adapter needs:
 * submit a job, follow it, read its test cases and log, cancel it.
 * Lists are paginated ({count, next, results}); the log is YAML, not JSON.
 */
import { parse } from 'yaml';

export type LavaJobState = 'Submitted' | 'Scheduling' | 'Scheduled' | 'Running' | 'Canceling' | 'Finished';
export type LavaJobHealth = 'Unknown' | 'Complete' | 'Incomplete' | 'Canceled';

export interface LavaJob {
  id: number;
  state: LavaJobState;
  health: LavaJobHealth;
  actual_device: string | null;
  submit_time: string | null;
  start_time: string | null;
  end_time: string | null;
}

export interface LavaTestCase {
  name: string;
  result: 'pass' | 'fail' | 'skip' | 'unknown';
  /** the suite's name: `lava` for LAVA's own actions, a monitor's or test definition's name otherwise */
  suite: string;
  /** the test case's metadata (LAVA stores it as a YAML string) */
  metadata: Record<string, unknown>;
}

export interface LavaLogLine {
  dt: string;
  /** `target` lines are the board's serial console */
  lvl: string;
  msg: unknown;
}

/** LAVA answered with an HTTP error, or could not be reached. */
export class LavaApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LavaApiError';
  }
}

interface Page<T> {
  next: string | null;
  results: T[];
}

export interface LavaApiOptions {
  /** per request; default 30 s */
  requestTimeoutMs?: number;
}

export class LavaApi {
  /** the server's root URL, e.g. http://127.0.0.1:8000 */
  readonly origin: string;
  private readonly api: string;
  private readonly requestTimeoutMs: number;

  constructor(
    url: string,
    private readonly token: string,
    opts: LavaApiOptions = {},
  ) {
    this.origin = url.replace(/\/+$/, '').replace(/\/api\/v0\.2$/, '');
    this.api = `${this.origin}/api/v0.2`;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** The job's page in LAVA's web UI, for people. */
  jobPage(id: number): string {
    return `${this.origin}/scheduler/job/${id}`;
  }

  async submit(definition: string): Promise<number> {
    const res = await this.request('POST', `${this.api}/jobs/`, JSON.stringify({ definition }));
    const body = (await res.json()) as { job_ids?: number[] };
    const id = body.job_ids?.[0];
    if (typeof id !== 'number')
      throw new LavaApiError(`LAVA accepted the job but returned no job id: ${JSON.stringify(body)}`);
    return id;
  }

  /** LAVA's schema check of a job definition: null when valid, else LAVA's reason. */
  async validate(definition: string): Promise<string | null> {
    const res = await this.request('POST', `${this.api}/jobs/validate/`, JSON.stringify({ definition }));
    const { message } = (await res.json()) as { message?: string };
    return message === 'Job valid.' ? null : (message ?? 'no answer');
  }

  async job(id: number): Promise<LavaJob> {
    return (await (await this.request('GET', `${this.api}/jobs/${id}/`)).json()) as LavaJob;
  }

  /** LAVA cancels with GET (POST is refused with 405). */
  async cancel(id: number): Promise<void> {
    await this.request('GET', `${this.api}/jobs/${id}/cancel/`);
  }

  async tests(id: number): Promise<LavaTestCase[]> {
    const suites = new Map(
      (await this.all<{ id: number; name: string }>(`${this.api}/jobs/${id}/suites/?limit=100`)).map((s) => [
        s.id,
        s.name,
      ]),
    );
    const raw = await this.all<{
      name: string;
      result: LavaTestCase['result'];
      suite: number;
      metadata: string | null;
    }>(`${this.api}/jobs/${id}/tests/?limit=200`);
    return raw.map((t) => ({
      name: t.name,
      result: t.result,
      suite: suites.get(t.suite) ?? String(t.suite),
      metadata: parseMetadata(t.metadata),
    }));
  }

  /** The job's log as LAVA keeps it (YAML text) and parsed. */
  async logs(id: number): Promise<{ text: string; lines: LavaLogLine[] }> {
    const text = await (await this.request('GET', `${this.api}/jobs/${id}/logs/`)).text();
    const lines: unknown = parse(text);
    return { text, lines: Array.isArray(lines) ? (lines as LavaLogLine[]) : [] };
  }

  private async all<T>(first: string): Promise<T[]> {
    const items: T[] = [];
    for (let url: string | null = first; url; ) {
      const page = (await (await this.request('GET', url)).json()) as Page<T>;
      items.push(...page.results);
      url = page.next;
    }
    return items;
  }

  private async request(method: 'GET' | 'POST', url: string, body?: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        body,
        headers: { authorization: `Token ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause;
      throw new LavaApiError(
        `LAVA at ${this.origin} unreachable (${method} ${url}): ${cause?.message ?? (e as Error).message}`,
      );
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 500);
      throw new LavaApiError(`LAVA ${method} ${url}: HTTP ${res.status}${text ? `: ${text}` : ''}`, res.status);
    }
    return res;
  }
}

function parseMetadata(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
