/**
 * Recording results. Every write is an upsert on the row's natural identity
 * — revision (tree, branch, sha), build (tree, sha, config, scope), boot
 * (build, platform, lab, run) — so a retried activity or a replayed workflow
 * writes the same row again instead of adding one.
 *
 * `scope` keeps a bisection's results apart from a revision's: '' for the
 * revision's own build of a commit, the build-boot child's workflow id for a
 * bisection's (BuildBootInput.bisection). A bisection that builds and boots a
 * tested revision therefore never rewrites what the revision's report read.
 */
import type { JSONValue, Sql } from 'postgres';
import type { BootRecord, ResultActivities } from '../../domain/activityContracts';
import { publicTreeUrl } from '../../domain/publicUrl';
import type { ArtifactStore } from '../../plumbing/store/types';
import { testRows, writeTestRows } from './testRecords';

/** Our result types are plain JSON data; TypeScript cannot see that through their interfaces. */
const json = (value: object) => value as unknown as JSONValue;

/** '' for a revision's own rows; the recording child's workflow id for a bisection's. */
export const resultScope = (rec: { workflowId: string; bisection?: string }) => (rec.bisection ? rec.workflowId : '');

/** `store` reads the boots' test results files (activities/pipeline/testRecords.ts); boots without a test plan need none. */
export function createResultActivities({ sql, store }: { sql: Sql; store?: ArtifactStore }) {
  return {
    async revisionKnown({ tree, branch, sha }) {
      const rows =
        await sql`select 1 from revisions where tree = ${tree} and branch = ${branch} and sha = ${sha} and status <> 'error'`;
      return rows.length > 0;
    },

    async recordRevisionStart(rev) {
      return sql.begin(async (tx) => {
        await tx`insert into trees (name, url) values (${rev.tree}, ${publicTreeUrl(rev.url)}) on conflict (name) do nothing`;
        // started_at orders a branch's history (regressions compare with the previous revision):
        // a re-run of an old revision keeps its place.
        const [row] = await tx`
          insert into revisions (tree, branch, sha, describe, subject, author, author_email, committed_at, status, workflow_id)
          values (${rev.tree}, ${rev.branch}, ${rev.sha}, ${rev.describe}, ${rev.subject}, ${rev.author}, ${rev.authorEmail},
                  ${rev.committedAt || null}, 'running', ${rev.workflowId})
          on conflict (tree, branch, sha) do update set
            describe = excluded.describe, subject = excluded.subject, author = excluded.author,
            author_email = excluded.author_email, committed_at = excluded.committed_at,
            status = 'running', result = null, summary = null, message = null, finished_at = null,
            workflow_id = excluded.workflow_id
          returning id`;
        return Number(row.id);
      });
    },

    async recordRevisionError({ tree, branch, sha, workflowId, message }) {
      await sql`
        insert into revisions (tree, branch, sha, status, result, message, workflow_id, finished_at)
        values (${tree}, ${branch}, ${sha}, 'error', 'infra-error', ${message}, ${workflowId}, now())
        on conflict (tree, branch, sha) do update set
          status = 'error', result = 'infra-error', message = excluded.message,
          workflow_id = excluded.workflow_id, finished_at = coalesce(revisions.finished_at, now())`;
    },

    async recordRevisionSummary({ tree, branch, sha, workflowId, result, counts }) {
      const rows = await sql`
        update revisions set status = 'done', result = ${result}, summary = ${sql.json(json(counts))},
          workflow_id = ${workflowId}, finished_at = coalesce(finished_at, now())
        where tree = ${tree} and branch = ${branch} and sha = ${sha}
        returning id`;
      if (!rows.length) throw new Error(`revision ${tree}/${branch} ${sha} was never recorded as started`);
    },

    async recordBuild(rec) {
      const { tree, sha, config, result, workflowId } = rec;
      const [row] = await sql`
        insert into builds (tree, sha, config, scope, bisection, arch, defconfig, toolchain, status, warnings, errors,
                            duration_ms, log_key, artifacts, error_lines, message, builder, workflow_id, finished_at)
        values (${tree}, ${sha}, ${config.name}, ${resultScope(rec)}, ${rec.bisection ?? null}, ${config.arch},
                ${config.defconfig}, ${config.toolchain}, ${result.status}, ${result.warnings}, ${result.errors},
                ${Math.round(result.durationMs)}, ${result.artifacts.log?.key ?? null},
                ${sql.json(json(result.artifacts))}, ${sql.json(result.errorLines)}, ${result.message ?? null},
                ${result.builder ?? null}, ${workflowId}, now())
        on conflict (tree, sha, config, scope) do update set
          arch = excluded.arch, defconfig = excluded.defconfig, toolchain = excluded.toolchain, status = excluded.status,
          warnings = excluded.warnings, errors = excluded.errors, duration_ms = excluded.duration_ms, log_key = excluded.log_key,
          artifacts = excluded.artifacts, error_lines = excluded.error_lines, message = excluded.message,
          builder = excluded.builder, workflow_id = excluded.workflow_id,
          artifacts_expired_at = null, log_expired_at = null,
          finished_at = case when builds.workflow_id = excluded.workflow_id then coalesce(builds.finished_at, now()) else now() end
        returning id`;
      return Number(row.id);
    },

    async recordLostBuild({ tree, sha, config, workflowId, message }) {
      // The child's own record (same workflow id) is the truth about what it did; anything else is replaced.
      const [row] = await sql`
        insert into builds (tree, sha, config, arch, defconfig, toolchain, status, message, workflow_id, finished_at)
        values (${tree}, ${sha}, ${config.name}, ${config.arch}, ${config.defconfig}, ${config.toolchain}, 'infra-error',
                ${message}, ${workflowId}, now())
        on conflict (tree, sha, config, scope) do update set
          status = 'infra-error', message = excluded.message, warnings = 0, errors = 0, log_key = null,
          artifacts = '{}', error_lines = '[]', workflow_id = excluded.workflow_id, finished_at = now(),
          artifacts_expired_at = null, log_expired_at = null
          where builds.workflow_id is distinct from excluded.workflow_id
        returning id`;
      if (row) return Number(row.id);
      const [kept] =
        await sql`select id from builds where tree = ${tree} and sha = ${sha} and config = ${config.name} and scope = ''`;
      return Number(kept.id);
    },

    async recordBoot(rec: BootRecord) {
      const r = rec.result;
      // read before the transaction: a results file the store cannot give back fails the activity, which is retried
      const tests = r.tests ? await testRows(r.tests, store) : [];
      const [row] = await sql.begin(async (tx) => {
        // Only a boot the lab itself answered shows the lab is alive (offline and lost boots say nothing of the kind).
        if (rec.fromLab)
          await tx`update labs set last_result_at = greatest(last_result_at, now()) where name = ${r.lab}`;
        const [boot] = await tx`
          insert into boots (build_id, tree, sha, config, arch, platform, lab, run, scope, bisection, status, duration_ms,
                             log_key, message, attempts, workflow_id, finished_at)
          values (${rec.buildId}, ${rec.tree}, ${rec.sha}, ${rec.config}, ${rec.arch}, ${r.platform}, ${r.lab}, ${rec.run},
                  ${resultScope(rec)}, ${rec.bisection ?? null}, ${r.status}, ${Math.round(r.durationMs)},
                  ${r.log?.key ?? null}, ${r.message}, ${r.attempts ?? 1}, ${rec.workflowId}, now())
          on conflict (build_id, platform, lab, run) do update set
            status = excluded.status, duration_ms = excluded.duration_ms, log_key = excluded.log_key,
            message = excluded.message, attempts = excluded.attempts, workflow_id = excluded.workflow_id,
            log_expired_at = null,
            finished_at = case when boots.workflow_id = excluded.workflow_id then coalesce(boots.finished_at, now()) else now() end
          returning id`;
        await writeTestRows(tx, { id: Number(boot.id), scope: resultScope(rec), record: rec }, tests);
        return [boot];
      });
      return Number(row.id);
    },
  } satisfies ResultActivities;
}

export type ResultActivityImpl = ReturnType<typeof createResultActivities>;
