import { z } from 'zod';
import type { Sql } from 'postgres';
import { branchParam, cursorParam, limitParam, nameParam, shaParam } from '../validate';
import { keysetPage, shaStartsWith, type Page } from './page';
import { countsOf, fromRow, revisionSchema, statusCountsSchema, type Revision } from './rows';

export const revisionFilters = z.strictObject({
  tree: nameParam.optional(),
  branch: branchParam.optional(),
  sha: shaParam.optional(),
  status: z.enum(['running', 'done', 'error']).optional(),
  result: z.enum(['pass', 'fail', 'infra-error']).optional(),
  limit: limitParam.optional(),
  cursor: cursorParam.optional(),
});
export type RevisionFilters = z.output<typeof revisionFilters>;

export function listRevisions(sql: Sql, f: RevisionFilters): Promise<Page<Revision>> {
  return keysetPage(sql, {
    table: 'revisions',
    time: 'started_at',
    where: [
      ...(f.tree ? [sql`tree = ${f.tree}`] : []),
      ...(f.branch ? [sql`branch = ${f.branch}`] : []),
      ...(f.status ? [sql`status = ${f.status}`] : []),
      ...(f.result ? [sql`result = ${f.result}`] : []),
    ],
    first: f.sha ? shaStartsWith(sql, f.sha) : undefined,
    limit: f.limit ?? 50,
    cursor: f.cursor,
    map: fromRow<Revision>,
  });
}

export async function getRevision(sql: Sql, id: number): Promise<Revision | null> {
  const [row] = await sql`select * from revisions where id = ${id}`;
  return row ? fromRow<Revision>(row) : null;
}

/** The revisions (one per branch) that tested this commit. */
export async function revisionsOfCommit(sql: Sql, tree: string, sha: string): Promise<Revision[]> {
  const rows =
    await sql`select * from revisions where tree = ${tree} and sha = ${sha} order by started_at desc limit 20`;
  return rows.map(fromRow<Revision>);
}

export const branchStatusSchema = z
  .strictObject({
    tree: z.string(),
    url: z.string().nullable(),
    branch: z.string().nullable(),
    latest: revisionSchema.nullable(),
    builds: statusCountsSchema,
    boots: statusCountsSchema,
  })
  .meta({ id: 'BranchStatus' });
export type BranchStatus = z.infer<typeof branchStatusSchema>;

/** Every tree, and for each branch with a tested revision, that latest revision and its counts. */
export async function branchOverview(sql: Sql): Promise<BranchStatus[]> {
  // The (tree, branch) pairs by a skip scan of revisions_branch_started (one index probe per pair), then each
  // pair's newest revision: `distinct on` read all 100,000 revisions of the seed's scale (5 s) for 40 rows.
  const latest = await sql`
    with recursive branches as (
      (select tree, branch from revisions order by tree, branch limit 1)
      union all
      select n.tree, n.branch from branches b cross join lateral (
        select tree, branch from revisions r where (r.tree, r.branch) > (b.tree, b.branch)
        order by tree, branch limit 1) n)
    select r.* from branches b cross join lateral (
      select * from revisions r where r.tree = b.tree and r.branch = b.branch
      order by started_at desc, id desc limit 1) r
    order by r.tree, r.branch`;
  const trees = await sql<{ name: string; url: string }[]>`select name, url from trees order by name`;
  const counts = latest.length
    ? await sql<{ tree: string; sha: string; kind: string; status: string; n: string }[]>`
        with heads as (select distinct tree, sha from revisions r
                       where r.id in ${sql(latest.map((r) => r.id as string))})
        select b.tree, b.sha, 'build' as kind, b.status, count(*) as n
          from builds b join heads h on h.tree = b.tree and h.sha = b.sha where b.scope = '' group by 1, 2, 3, 4
        union all
        select b.tree, b.sha, 'boot', b.status, count(*)
          from boots b join heads h on h.tree = b.tree and h.sha = b.sha where b.scope = '' group by 1, 2, 3, 4`
    : [];
  const countFor = (tree: string, sha: string, kind: string) =>
    countsOf(counts.filter((c) => c.tree === tree && c.sha === sha && c.kind === kind));
  const urls = new Map(trees.map((t) => [t.name, t.url]));
  const out: BranchStatus[] = latest.map((row) => {
    const rev = fromRow<Revision>(row);
    return {
      tree: rev.tree,
      url: urls.get(rev.tree) ?? null,
      branch: rev.branch,
      latest: rev,
      builds: countFor(rev.tree, rev.sha, 'build'),
      boots: countFor(rev.tree, rev.sha, 'boot'),
    };
  });
  for (const t of trees)
    if (!out.some((b) => b.tree === t.name))
      out.push({ tree: t.name, url: t.url, branch: null, latest: null, builds: {}, boots: {} });
  return out.sort((a, b) => a.tree.localeCompare(b.tree) || (a.branch ?? '').localeCompare(b.branch ?? ''));
}
