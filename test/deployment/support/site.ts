/**
 * The deployment suite's site: one hosts deployment (deploy/hosts.ts) of the
 * fixture tree, with a tree per test (the same repository and commits under
 * another name, so each test's revision, regressions, bisection and reports
 * are its own), and what a test needs to run a revision with its bisection
 * and collect what the deployment recorded of it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { HostsDeployment } from '../../../deploy/hosts';
import { readMailbox } from '../../../deploy/smtpSink';
import { finishSiteRun, startSiteRun, type SiteRun, type SiteTree } from '../../../deploy/fixtureSite';

const { PendingActivityState } = temporal.api.enums.v1;

/** What one run of the revision left behind, as a kernel maintainer would compare it. */
export interface Outcome {
  /** `[bisection <step|verify|revert>] <commit> <config>: <status>` of every build of the tree */
  builds: string[];
  /** `[bisection <step|verify|revert>] <commit> <config> <platform>@<lab>#<run>: <status>` of every boot */
  boots: string[];
  /** the bisection's verdict and culprit */
  bisection: { status: string; culprit?: string; confirmed: boolean };
  /** every mail of the tree: subject and how many times its Message-ID arrived */
  mails: { subject: string; copies: number }[];
  /** from the trigger until the revision, its reports and its bisection had all ended */
  elapsedMs: number;
  /** activity attempts that failed or timed out in the tree's workflows */
  failedAttempts: number;
}

export class Site {
  constructor(
    readonly d: HostsDeployment,
    readonly fixture: SiteTree,
    private readonly log: (line: string) => void = () => {},
  ) {}

  private history?: string[];

  /** Labels for commits: their place in the fixture's history; anything else is the bisection's revert. */
  private label(sha: string): string {
    this.history ??= execFileSync('git', ['-C', this.fixture.repo.dir, 'rev-list', '--reverse', this.fixture.bad], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    const i = this.history.indexOf(sha);
    return i >= 0 ? `c${i}` : 'revert';
  }

  /**
   * The revision (its bad head) of `tree` and the bisection of its boot
   * regression on farm-b, started through the dashboard's operator API as
   * an operator would; `during` injects a fault while they run. Resolves
   * once all of it has ended, with what was recorded.
   */
  async run(tree: string, during: (ctx: SiteRun) => Promise<void> = async () => {}): Promise<Outcome> {
    const run = await startSiteRun(this.d, this.fixture, tree);
    await during(run);
    const elapsedMs = await finishSiteRun(this.d, run);
    this.log(`${tree}: revision, reports and bisection ended after ${Math.round(elapsedMs / 1000)}s`);
    const t0 = Date.now();
    const outcome = await this.outcome(tree, run.bisectionId, elapsedMs);
    this.log(`${tree}: outcome collected in ${Math.round((Date.now() - t0) / 1000)}s`);
    return outcome;
  }

  async outcome(tree: string, bisectionId: string, elapsedMs: number): Promise<Outcome> {
    const { sql } = this.d;
    // the tree's own config names, as every tree calls them
    const config = (name: string) => name.replace(new RegExp(`^${tree}-`), '');
    const builds = await sql<{ sha: string; config: string; status: string; scope: string }[]>`
      select sha, config, status, scope from builds where tree = ${tree}`;
    const boots = await sql<
      { sha: string; config: string; platform: string; lab: string; run: number; status: string; scope: string }[]
    >`select sha, config, platform, lab, run, status, scope from boots where tree = ${tree}`;
    const result = (await this.d.temporal((c) => c.workflow.getHandle(bisectionId).result())) as {
      verdict: { status: string; confirmed: boolean; culprit?: { sha: string } };
    };
    return {
      builds: builds.map((b) => `${scopeOf(b.scope)}${this.label(b.sha)} ${config(b.config)}: ${b.status}`).sort(),
      boots: boots
        .map(
          (b) =>
            `${scopeOf(b.scope)}${this.label(b.sha)} ${config(b.config)} ${b.platform}@${b.lab}#${b.run}: ${b.status}`,
        )
        .sort(),
      bisection: {
        status: result.verdict.status,
        confirmed: result.verdict.confirmed,
        ...(result.verdict.culprit ? { culprit: result.verdict.culprit.sha } : {}),
      },
      mails: await this.mailsOf(tree),
      elapsedMs,
      failedAttempts: await this.failedAttempts(tree),
    };
  }

  /** The tree's mails in the sink's mailbox, one entry per Message-ID. */
  async mailsOf(tree: string): Promise<{ subject: string; copies: number }[]> {
    const byId = new Map<string, { subject: string; copies: number }>();
    for (const m of readMailbox(this.d.mailDir)) {
      const parsed = await simpleParser(m.raw);
      if (!parsed.subject?.startsWith(`${tree}/`)) continue;
      const id = parsed.messageId ?? m.file;
      const seen = byId.get(id);
      if (seen) seen.copies++;
      else byId.set(id, { subject: parsed.subject.replace(/\(.*\)$/, '').trim(), copies: 1 });
    }
    return [...byId.values()].sort((a, b) => a.subject.localeCompare(b.subject));
  }

  /** The tree's workflows, from visibility. */
  async workflowsOf(tree: string, running = false): Promise<string[]> {
    return this.d.temporal(async (c) => {
      const ids: string[] = [];
      const query = `BfTree = '${tree}'${running ? " AND ExecutionStatus = 'Running'" : ''}`;
      for await (const wf of c.workflow.list({ query })) ids.push(wf.workflowId);
      return ids;
    });
  }

  /** Attempts that failed or timed out, counted from every history of the tree's workflows. */
  async failedAttempts(tree: string): Promise<number> {
    let n = 0;
    for (const id of await this.workflowsOf(tree)) {
      const history = await this.d.temporal((c) => c.workflow.getHandle(id).fetchHistory());
      for (const e of history.events ?? []) {
        const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
        if (attempt > 1) n += 1;
      }
    }
    return n;
  }

  /** Histories of the tree's workflows, for markers and failed workflow tasks. */
  async histories(tree: string) {
    const out: { id: string; events: temporal.api.history.v1.IHistoryEvent[] }[] = [];
    for (const id of await this.workflowsOf(tree)) {
      const history = await this.d.temporal((c) => c.workflow.getHandle(id).fetchHistory());
      out.push({ id, events: history.events ?? [] });
    }
    return out;
  }

  /**
   * Waits until one of the tree's running workflows has an activity of this
   * type started on a worker; returns the worker's pid (from its identity,
   * pid@host) and the description.
   */
  async startedActivity(
    tree: string,
    type: string,
    opts: { pid?: number; timeoutMs?: number } = {},
  ): Promise<{ pid: number; workflowId: string; description: WorkflowExecutionDescription }> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const id of await this.workflowsOf(tree, true)) {
        const description = await this.d.temporal((c) => c.workflow.getHandle(id).describe());
        const started = (description.raw.pendingActivities ?? []).find(
          (a) =>
            a.activityType?.name === type &&
            a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
            (opts.pid === undefined || a.lastWorkerIdentity?.startsWith(`${opts.pid}@`)),
        );
        if (started?.lastWorkerIdentity) {
          const pid = Number(started.lastWorkerIdentity.split('@')[0]);
          return { pid, workflowId: id, description };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${type} activity of tree ${tree} started within ${timeoutMs / 1000}s`);
  }

  /** Waits until a process whose command line matches runs in the host; returns its pid. */
  async processIn(host: string, pattern: RegExp, timeoutMs = 120_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const pid of this.d.hosts.processesOf(host)) {
        if (pattern.test(commandLine(pid))) return pid;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no process matching ${pattern} on ${host} within ${timeoutMs / 1000}s`);
  }

  /** The workflow's pending activity of this type, when it has been attempted more than once. */
  async retrying(workflowId: string, type: string): Promise<boolean> {
    const description = await this.d.temporal((c) => c.workflow.getHandle(workflowId).describe());
    return (description.raw.pendingActivities ?? []).some((a) => a.activityType?.name === type && (a.attempt ?? 1) > 1);
  }
}

/** Whose a row is: the revision's (no prefix), or a bisection's step, verify or revert series. */
function scopeOf(scope: string): string {
  if (!scope) return '';
  const kind = /:(step|verify|revert):/.exec(scope)?.[1] ?? 'bisection';
  return `bisection ${kind} `;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)) {
    const i = entry.indexOf('=');
    out[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return out;
}

export function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}
