import type { Sql } from 'postgres';
import type { StatusCounts } from './rows';
import type { Build } from '../../plumbing/db/rows';

/** A cell of the build matrix: what the page shows of a build. */
export type BuildBrief = Pick<
  Build,
  'id' | 'config' | 'arch' | 'defconfig' | 'toolchain' | 'status' | 'warnings' | 'errors'
>;

export interface BootBrief {
  id: number;
  config: string;
  platform: string;
  lab: string;
  run: number;
  status: string;
  message: string | null;
  logKey: string | null;
  /** when the retention sweep removed the console log */
  logExpiredAt: string | null;
  workflowId: string | null;
}

export interface BootCell {
  platform: string;
  lab: string;
  counts: StatusCounts;
  total: number;
}

export interface RevisionMatrix {
  builds: BuildBrief[];
  cells: BootCell[];
  /** every boot of a small cell, and the boots that did not pass in a big one */
  shownBoots: BootBrief[];
}

/** A cell with at most this many boots lists them all; a bigger one lists only those that did not pass. */
export const CELL_LIST_ALL = 12;

/**
 * What the revision page draws, without loading every boot: the page of a
 * revision with 125 builds and 600 boots costs what its failures cost. Only
 * the revision's own rows (scope ''): a bisection's builds and boots of the
 * same commit are on the bisection's page.
 */
export async function revisionMatrix(sql: Sql, tree: string, sha: string): Promise<RevisionMatrix> {
  const [builds, counts, shown] = await Promise.all([
    sql<(Omit<BuildBrief, 'id'> & { id: string })[]>`
      select id, config, arch, defconfig, toolchain, status, warnings, errors
      from builds where tree = ${tree} and sha = ${sha} and scope = '' order by arch, defconfig, config`,
    sql<{ platform: string; lab: string; status: string; n: number }[]>`
      select platform, lab, status, count(*)::int as n from boots
      where tree = ${tree} and sha = ${sha} and scope = '' group by platform, lab, status`,
    sql<
      (Omit<BootBrief, 'id' | 'logKey' | 'logExpiredAt' | 'workflowId'> & {
        id: string;
        log_key: string | null;
        log_expired_at: Date | null;
        workflow_id: string | null;
      })[]
    >`
      select id, config, platform, lab, run, status, message, log_key, log_expired_at, workflow_id from (
        select id, config, platform, lab, run, status, message, log_key, log_expired_at, workflow_id, count(*) over (partition by platform, lab) as n
        from boots where tree = ${tree} and sha = ${sha} and scope = '') b
      where status <> 'pass' or n <= ${CELL_LIST_ALL}
      order by platform, lab, config, run`,
  ]);
  const cells = new Map<string, BootCell>();
  for (const c of counts) {
    const key = `${c.platform}\u0000${c.lab}`;
    const cell = cells.get(key) ?? { platform: c.platform, lab: c.lab, counts: {}, total: 0 };
    cell.counts[c.status] = c.n;
    cell.total += c.n;
    cells.set(key, cell);
  }
  return {
    builds: builds.map((b) => ({ ...b, id: Number(b.id) })),
    cells: [...cells.values()],
    shownBoots: shown.map(({ log_key, log_expired_at, workflow_id, ...b }) => ({
      ...b,
      id: Number(b.id),
      logKey: log_key,
      logExpiredAt: log_expired_at?.toISOString() ?? null,
      workflowId: workflow_id,
    })),
  };
}
