/**
 * The store sweep (docs/retention.md): removes build artifacts, build logs,
 * console logs and archived mails past their age, and forgets finished lab
 * jobs, oldest first, a batch at a time.
 *
 * What it never removes: anything of the newest `keepRevisions` revisions of
 * every branch, of a commit a regression names (last good, first bad, last
 * bad, fixed, failed again, for its config and platform), of a bisection's
 * endpoints and culprit, or of a bisection's own builds and boots; and,
 * while they run, the old results of a revision running again and the old
 * builds of a running bisection's config (they may be rewriting those
 * keys). A build's rows of one commit and config share its objects (a
 * bisection's build of a tested commit), so a build is removed only when
 * all of them may be.
 *
 * Order, for crash safety: the objects first, then the row's mark. A sweep
 * killed in between leaves an unmarked row whose objects are gone; the next
 * sweep selects it again, deletes again (deleting what is gone succeeds) and
 * marks it. The other order could leave a mark on an object that is still
 * there, which no later sweep would look at again: a leak, and a dashboard
 * saying "expired" for a log one could still read.
 */
import { relative, resolve, sep } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Fragment, Sql } from 'postgres';
import type { StoreKind, SweepCursor, SweepRequest, SweepResult } from '../../domain/retention';
import type { ArtifactStore } from '../../plumbing/store/types';
import { bootLogDir } from '../labs/adapter';

export interface ExpiryDeps {
  sql: Sql;
  store: ArtifactStore;
  /** where the mailer archives each mail (.eml) */
  outboxDir: string;
}

/** One row past its age: what it points at, and where the sweep goes on after it. */
interface Candidate {
  id: number;
  /** the row's age timestamp as PostgreSQL's text (exact, unlike a JS Date) */
  at: string;
  keys: string[];
  bytes: number;
}

interface KindSweep {
  candidates(req: SweepRequest, after: SweepCursor | undefined): Promise<Candidate[]>;
  /** remove what the rows point at (idempotent: what is gone already is fine) */
  remove(rows: Candidate[]): Promise<void>;
  /** mark the rows whose age is still what the sweep read (a re-run since then made them new); returns how many */
  mark(rows: Candidate[]): Promise<number>;
}

const SAMPLE = 20;
const PARALLEL_DELETES = 16;

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function createExpiry(deps: ExpiryDeps) {
  const { sql, store } = deps;
  const outboxRoot = resolve(deps.outboxDir);

  /** The commits whose results stay: the newest revisions of every branch, and what regressions and bisections name. */
  const pinned = (keep: number) => sql`
    latest as (
      select distinct tree, sha from (
        select tree, sha, row_number() over (partition by tree, branch order by started_at desc, id desc) as n
        from revisions) r
      where n <= ${keep}),
    pinned as (
      select r.tree, s.sha, r.config, nullif(r.platform, '') as platform
      from regressions r cross join lateral
        (values (r.last_good_sha), (r.first_bad_sha), (r.last_bad_sha), (r.fixed_sha), (r.reopened_sha)) s(sha)
      where s.sha is not null
      union
      select r.tree, h.sha, r.config, nullif(r.platform, '') from regression_history h
        join regressions r on r.id = h.regression_id
      union
      select tree, s.sha, config, platform from bisections cross join lateral
        (values (good_sha), (bad_sha), (culprit_sha)) s(sha)
      where s.sha is not null)`;

  /**
   * A commit whose revision runs again writes its objects under the same
   * keys before its rows are recorded: its old rows wait for a later sweep.
   */
  const notBeingRebuilt = (t: 'b' | 'x') => sql`
    and not exists (select 1 from revisions r where r.tree = ${sql(t)}.tree and r.sha = ${sql(t)}.sha and r.status = 'running')`;

  const after = (column: string, cursor: SweepCursor | undefined) =>
    cursor ? sql`and (${sql.unsafe(column)}, id) > (${cursor.at}::timestamptz, ${cursor.id})` : sql``;

  /** Builds past the cutoff whose every row of the commit and config is past it and unpinned. */
  const buildRows = (req: SweepRequest, cursor: SweepCursor | undefined, unexpired: Fragment) => sql`
    with ${pinned(req.keepRevisions)}
    select b.id, coalesce(b.finished_at, b.created_at)::text as at, b.artifacts, b.log_key
    from builds b
    where ${unexpired} and coalesce(b.finished_at, b.created_at) < ${req.cutoff}::timestamptz
      ${after('coalesce(b.finished_at, b.created_at)', cursor)}
      and not exists (select 1 from builds o where o.tree = b.tree and o.sha = b.sha and o.config = b.config
        and (o.bisection is not null or coalesce(o.finished_at, o.created_at) >= ${req.cutoff}::timestamptz))
      and not exists (select 1 from latest l where l.tree = b.tree and l.sha = b.sha)
      and not exists (select 1 from pinned p where p.tree = b.tree and p.sha = b.sha and p.config = b.config)
      ${notBeingRebuilt('b')}
      -- so does a running bisection's config: its steps build commits whose old builds' objects share their keys
      and not exists (select 1 from bisections s where s.tree = b.tree and s.config = b.config and s.status = 'running')
    order by coalesce(b.finished_at, b.created_at), b.id
    limit ${req.batch}`;

  const deleteKeys = (rows: Candidate[]) =>
    inParallel(
      rows.flatMap((r) => r.keys),
      PARALLEL_DELETES,
      (key) => store.delete(key),
    );

  /** Mark rows of `table` whose age is still the one read; `set` names the mark column. */
  const markRows = async (table: 'builds' | 'boots', column: string, age: string, rows: Candidate[]) => {
    if (!rows.length) return 0;
    const marked = await sql`
      update ${sql(table)} t set ${sql(column)} = now()
      from (select unnest(${rows.map((r) => r.id)}::bigint[]) as id, unnest(${rows.map((r) => r.at)}::text[]) as at) v
      where t.id = v.id and ${sql.unsafe(age)} = v.at::timestamptz and t.${sql(column)} is null`;
    return marked.count;
  };

  type BuildRow = {
    id: string;
    at: string;
    artifacts: Record<string, { key?: string; size?: number }>;
    log_key: string;
  };
  const ageOf = 'coalesce(t.finished_at, t.created_at)';

  const kinds: Record<StoreKind, KindSweep> = {
    buildArtifacts: {
      async candidates(req, cursor) {
        const rows = await buildRows(req, cursor, sql`b.artifacts_expired_at is null`);
        return (rows as unknown as BuildRow[]).map((r) => {
          const objects = Object.entries(r.artifacts ?? {}).filter(([role, a]) => role !== 'log' && a?.key);
          return {
            id: Number(r.id),
            at: r.at,
            keys: objects.map(([, a]) => a.key as string),
            bytes: objects.reduce((n, [, a]) => n + (a.size ?? 0), 0),
          };
        });
      },
      remove: deleteKeys,
      mark: (rows) => markRows('builds', 'artifacts_expired_at', ageOf, rows),
    },

    buildLogs: {
      async candidates(req, cursor) {
        const rows = await buildRows(req, cursor, sql`b.log_expired_at is null and b.log_key is not null`);
        return (rows as unknown as BuildRow[]).map((r) => ({
          id: Number(r.id),
          at: r.at,
          keys: [r.log_key],
          bytes: r.artifacts?.log?.key === r.log_key ? (r.artifacts.log.size ?? 0) : 0,
        }));
      },
      remove: deleteKeys,
      mark: (rows) => markRows('builds', 'log_expired_at', ageOf, rows),
    },

    consoleLogs: {
      async candidates(req, cursor) {
        const rows = await sql<{ id: string; at: string; log_key: string }[]>`
          with ${pinned(req.keepRevisions)}
          select x.id, coalesce(x.finished_at, x.created_at)::text as at, x.log_key
          from boots x
          where x.log_expired_at is null and x.log_key is not null and x.bisection is null
            and coalesce(x.finished_at, x.created_at) < ${req.cutoff}::timestamptz
            ${after('coalesce(x.finished_at, x.created_at)', cursor)}
            and not exists (select 1 from latest l where l.tree = x.tree and l.sha = x.sha)
            and not exists (select 1 from pinned p where p.tree = x.tree and p.sha = x.sha and p.config = x.config
              and (p.platform is null or p.platform = x.platform))
            ${notBeingRebuilt('x')}
          order by coalesce(x.finished_at, x.created_at), x.id
          limit ${req.batch}`;
        const out: Candidate[] = [];
        for (const r of rows) {
          // A boot's own directory holds what its lab stored beside the log (a LAVA job's definition and log).
          const dir = bootLogDir(r.log_key);
          const keys = new Set([r.log_key]);
          let bytes = 0;
          if (dir)
            for await (const o of store.list(dir)) {
              keys.add(o.key);
              bytes += o.size;
            }
          out.push({ id: Number(r.id), at: r.at, keys: [...keys], bytes });
        }
        return out;
      },
      remove: deleteKeys,
      mark: (rows) => markRows('boots', 'log_expired_at', ageOf, rows),
    },

    outbox: {
      async candidates(req, cursor) {
        const rows = await sql<{ id: string; at: string; eml_key: string }[]>`
          select id, coalesce(sent_at, created_at)::text as at, eml_key from reports
          where eml_expired_at is null and eml_key is not null
            and coalesce(sent_at, created_at) < ${req.cutoff}::timestamptz
            ${after('coalesce(sent_at, created_at)', cursor)}
          order by coalesce(sent_at, created_at), id
          limit ${req.batch}`;
        return rows.map((r) => ({ id: Number(r.id), at: r.at, keys: [r.eml_key], bytes: 0 }));
      },
      async remove(rows) {
        for (const r of rows) {
          const file = resolve(outboxRoot, r.keys[0]);
          const inside = relative(outboxRoot, file);
          // eml_key is our mailer's own file name; anything reaching out of the outbox is left alone
          if (!inside || inside.startsWith('..') || inside.split(sep).includes('..')) continue;
          await rm(file, { force: true });
        }
      },
      async mark(rows) {
        if (!rows.length) return 0;
        const marked = await sql`
          update reports t set eml_expired_at = now()
          from (select unnest(${rows.map((r) => r.id)}::bigint[]) as id, unnest(${rows.map((r) => r.at)}::text[]) as at) v
          where t.id = v.id and coalesce(t.sent_at, t.created_at) = v.at::timestamptz and t.eml_expired_at is null`;
        return marked.count;
      },
    },

    labJobs: {
      async candidates(req, cursor) {
        const rows = await sql<{ id: string; at: string }[]>`
          select id, coalesce(completed_at, created_at)::text as at from lab_jobs
          where coalesce(completed_at, created_at) < ${req.cutoff}::timestamptz
            ${after('coalesce(completed_at, created_at)', cursor)}
          order by coalesce(completed_at, created_at), id
          limit ${req.batch}`;
        return rows.map((r) => ({ id: Number(r.id), at: r.at, keys: [], bytes: 0 }));
      },
      // A lab job is only a row (its log belongs to the boot it became): deleting the row is removing it.
      async remove() {},
      async mark(rows) {
        if (!rows.length) return 0;
        const deleted = await sql`
          delete from lab_jobs t
          using (select unnest(${rows.map((r) => r.id)}::bigint[]) as id, unnest(${rows.map((r) => r.at)}::text[]) as at) v
          where t.id = v.id and coalesce(t.completed_at, t.created_at) = v.at::timestamptz`;
        return deleted.count;
      },
    },
  };

  /**
   * Sweep one kind from `req.after` on, at most `req.maxBatches` batches;
   * `next` in the result says where to go on. A dry run removes and marks
   * nothing and counts what it would.
   */
  async function sweep(req: SweepRequest, onBatch?: (progress: SweepResult) => void): Promise<SweepResult> {
    const kind = kinds[req.kind];
    const result: SweepResult = { kind: req.kind, rows: 0, objects: 0, bytes: 0, sample: [] };
    let cursor = req.after;
    for (let n = 0; n < (req.maxBatches ?? Number.POSITIVE_INFINITY); n++) {
      const rows = await kind.candidates(req, cursor);
      if (!rows.length) return result;
      if (req.dryRun) result.rows += rows.length;
      else {
        await kind.remove(rows);
        result.rows += await kind.mark(rows);
      }
      for (const r of rows) {
        result.objects += r.keys.length;
        result.bytes += r.bytes;
        for (const k of r.keys) if (result.sample.length < SAMPLE) result.sample.push(k);
      }
      const last = rows[rows.length - 1];
      cursor = { at: last.at, id: last.id };
      onBatch?.({ ...result, next: cursor });
      if (rows.length < req.batch) return result;
    }
    return { ...result, next: cursor };
  }

  return { sweep };
}
