/**
 * What a revision's progress is counted from: its recorded builds and boots
 * (the revision's own rows, scope '', and its first boots, run 0; a
 * bisection's rows of the same commit are not the revision's), and the durations to estimate the rest
 * by — this revision's when it has some, else the tree's latest. One
 * function for the dashboard and the pipeline's own account in the Web UI.
 */
import type { Sql } from 'postgres';
import {
  revisionProgress,
  type RecentDurations,
  type RecordedWork,
  type RevisionPlan,
  type RevisionProgress,
} from '../../domain/progress';

const RECENT = 50;

async function recorded(sql: Sql, tree: string, sha: string): Promise<RecordedWork> {
  const [builds, boots] = await Promise.all([
    sql<{ arch: string; status: string; n: number }[]>`
      select arch, status, count(*)::int as n from builds
      where tree = ${tree} and sha = ${sha} and scope = '' and status <> 'running' group by arch, status`,
    sql<{ lab: string; n: number }[]>`
      select lab, count(*)::int as n from boots
      where tree = ${tree} and sha = ${sha} and scope = '' and run = 0 and status not in ('queued', 'running')
      group by lab`,
  ]);
  const work: RecordedWork = { builds: {}, boots: {} };
  for (const b of builds) (work.builds[b.arch] ??= {})[b.status] = b.n;
  for (const b of boots) work.boots[b.lab] = b.n;
  return work;
}

async function recent(sql: Sql, tree: string, sha: string): Promise<RecentDurations> {
  // The fleet's latest builds and each lab's latest boots read newest-first from their indexes.
  const [[build], labs] = await Promise.all([
    sql<{ mine: number | null; lately: number | null }[]>`
      select
        (select avg(duration_ms)::float8 from builds
          where tree = ${tree} and sha = ${sha} and scope = '' and duration_ms > 0) as mine,
        (select avg(duration_ms)::float8 from (
           select duration_ms from builds where duration_ms > 0 order by created_at desc limit ${RECENT}) b) as lately`,
    sql<{ lab: string; mine: number | null; lately: number | null; boards: number }[]>`
      select l.name as lab,
        (select avg(duration_ms)::float8 from boots
          where tree = ${tree} and sha = ${sha} and scope = '' and lab = l.name and duration_ms > 0) as mine,
        (select avg(duration_ms)::float8 from (
           select duration_ms from boots where lab = l.name and duration_ms > 0 order by created_at desc limit ${RECENT}) b) as lately,
        coalesce((select sum((p->>'capacity')::int) from jsonb_array_elements(l.platforms) p), 1)::int as boards
      from labs l`,
  ]);
  const bootMs: Record<string, number> = {};
  for (const l of labs) {
    const ms = l.mine ?? l.lately;
    if (ms !== null) bootMs[l.lab] = ms;
  }
  return {
    buildMs: build.mine ?? build.lately,
    bootMs,
    bootParallel: Object.fromEntries(labs.map((l) => [l.lab, l.boards])),
  };
}

export async function revisionProgressOf(
  sql: Sql,
  rev: { tree: string; sha: string },
  plan: RevisionPlan,
): Promise<RevisionProgress> {
  const [work, durations] = await Promise.all([recorded(sql, rev.tree, rev.sha), recent(sql, rev.tree, rev.sha)]);
  return revisionProgress(plan, work, durations);
}
