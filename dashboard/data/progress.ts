/**
 * The running pipelines with their progress: revisions from Temporal's list
 * of running revision workflows (their plan is in the memo) and their
 * records; bisections from their own `bisectProgress` query. What the
 * dashboard pages, GET /api/progress and `bootfarm status` all show.
 */
import { z } from 'zod';
import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import {
  BISECT_PROGRESS_QUERY,
  PLAN_MEMO,
  bisectionEtaSeconds,
  formatBisectionProgress,
  formatRevisionProgress,
  type BisectionProgress,
  type RevisionPlan,
  type RevisionProgress,
} from '../../domain/progress';
import { revisionProgressOf } from '../../plumbing/db/progress';
import { SA } from '../../domain/searchAttributes';
import { nameParam } from '../validate';

export const progressQuery = z.strictObject({ tree: nameParam.optional() });

export interface RunningRevision {
  id: number | null;
  tree: string;
  branch: string;
  sha: string;
  describe: string;
  workflowId: string;
  startedAt: string;
  progress: RevisionProgress | null;
  /** the progress in words, as the Web UI shows it */
  text: string;
}

export interface RunningBisection {
  id: number | null;
  tree: string;
  config: string;
  platform: string;
  lab: string | null;
  workflowId: string;
  startedAt: string;
  progress: BisectionProgress | null;
  etaSeconds: number | null;
  text: string;
}

export interface RunningPipelines {
  revisions: RunningRevision[];
  bisections: RunningBisection[];
}

/** Most running pipelines a page or a status call lists (the oldest first). */
const MAX_LISTED = 100;

const NO_TEMPORAL = 'progress unavailable: this dashboard has no Temporal connection';

/** Without Temporal, what is running as the database has it, without figures. */
async function runningFromDatabase(sql: Sql, tree?: string): Promise<RunningPipelines> {
  const [revs, bis] = await Promise.all([
    sql<
      {
        id: string;
        tree: string;
        branch: string;
        sha: string;
        describe: string;
        workflow_id: string | null;
        started_at: Date;
      }[]
    >`
      select id, tree, branch, sha, describe, workflow_id, started_at from revisions
      where status = 'running' ${tree ? sql`and tree = ${tree}` : sql``} order by started_at limit ${MAX_LISTED}`,
    sql<
      {
        id: string;
        tree: string;
        config: string;
        platform: string;
        lab: string | null;
        workflow_id: string;
        created_at: Date;
      }[]
    >`
      select id, tree, config, platform, lab, workflow_id, created_at from bisections
      where status = 'running' ${tree ? sql`and tree = ${tree}` : sql``} order by created_at limit ${MAX_LISTED}`,
  ]);
  return {
    revisions: revs.map((r) => ({
      id: Number(r.id),
      tree: r.tree,
      branch: r.branch,
      sha: r.sha,
      describe: r.describe,
      workflowId: r.workflow_id ?? '',
      startedAt: r.started_at.toISOString(),
      progress: null,
      text: NO_TEMPORAL,
    })),
    bisections: bis.map((b) => ({
      id: Number(b.id),
      tree: b.tree,
      config: b.config,
      platform: b.platform,
      lab: b.lab,
      workflowId: b.workflow_id,
      startedAt: b.created_at.toISOString(),
      progress: null,
      etaSeconds: null,
      text: NO_TEMPORAL,
    })),
  };
}

const isPlan = (v: unknown): v is RevisionPlan =>
  typeof v === 'object' && v !== null && 'configs' in v && 'targets' in v && 'concurrency' in v;

async function running(client: Client, kind: 'revision' | 'bisect', tree?: string) {
  const filter = `BfKind = "${kind}" AND ExecutionStatus = "Running"${tree ? ` AND BfTree = "${tree}"` : ''}`;
  const out = [];
  for await (const wf of client.workflow.list({ query: filter, pageSize: MAX_LISTED })) {
    out.push(wf);
    if (out.length >= MAX_LISTED) break;
  }
  return out.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

/** A revision's figures from its plan (the workflow's memo) and its records. */
export async function revisionProgressFor(
  sql: Sql,
  rev: { tree: string; sha: string },
  memo: Record<string, unknown> | undefined,
): Promise<{ progress: RevisionProgress | null; text: string }> {
  const plan = memo?.[PLAN_MEMO];
  if (!isPlan(plan)) return { progress: null, text: 'started before progress was recorded: no plan to count against' };
  const progress = await revisionProgressOf(sql, rev, plan);
  return { progress, text: formatRevisionProgress(progress) };
}

/** A bisection's own account (null when its worker cannot answer now). */
export async function bisectionProgressFor(
  client: Client,
  workflowId: string,
  nowMs = Date.now(),
): Promise<{ progress: BisectionProgress | null; etaSeconds: number | null; text: string }> {
  try {
    const progress = await client.workflow.getHandle(workflowId).query<BisectionProgress>(BISECT_PROGRESS_QUERY);
    return {
      progress,
      etaSeconds: bisectionEtaSeconds(progress, nowMs),
      text: formatBisectionProgress(progress, nowMs),
    };
  } catch (e) {
    return { progress: null, etaSeconds: null, text: `no answer from its worker: ${(e as Error).message}` };
  }
}

export async function runningPipelines(sql: Sql, client: Client | undefined, tree?: string): Promise<RunningPipelines> {
  if (!client) return runningFromDatabase(sql, tree);
  const c = client;
  const [revs, bis] = await Promise.all([running(c, 'revision', tree), running(c, 'bisect', tree)]);
  const ids = [...revs, ...bis].map((w) => w.workflowId);
  const [revRows, bisRows] = await Promise.all([
    sql<{ id: string; tree: string; branch: string; sha: string; describe: string; workflow_id: string }[]>`
      select id, tree, branch, sha, describe, workflow_id from revisions where workflow_id = any(${ids})`,
    sql<{ id: string; tree: string; config: string; platform: string; lab: string | null; workflow_id: string }[]>`
      select id, tree, config, platform, lab, workflow_id from bisections where workflow_id = any(${ids})`,
  ]);
  const revisions = await Promise.all(
    revs.map(async (wf): Promise<RunningRevision> => {
      const row = revRows.find((r) => r.workflow_id === wf.workflowId);
      const get = (key: typeof SA.tree) => String(wf.typedSearchAttributes.get(key) ?? '');
      const base = {
        id: row ? Number(row.id) : null,
        tree: row?.tree ?? get(SA.tree),
        branch: row?.branch ?? get(SA.branch),
        sha: row?.sha ?? get(SA.commit),
        describe: row?.describe ?? get(SA.commit).slice(0, 12),
        workflowId: wf.workflowId,
        startedAt: wf.startTime.toISOString(),
      };
      if (!row) return { ...base, progress: null, text: 'resolving the revision' };
      return { ...base, ...(await revisionProgressFor(sql, base, wf.memo)) };
    }),
  );
  const bisections = await Promise.all(
    bis.map(async (wf): Promise<RunningBisection> => {
      const row = bisRows.find((r) => r.workflow_id === wf.workflowId);
      return {
        id: row ? Number(row.id) : null,
        tree: row?.tree ?? '',
        config: row?.config ?? '',
        platform: row?.platform ?? '',
        lab: row?.lab ?? null,
        workflowId: wf.workflowId,
        startedAt: wf.startTime.toISOString(),
        ...(await bisectionProgressFor(c, wf.workflowId)),
      };
    }),
  );
  return { revisions, bisections };
}
