/**
 * The `bisections` table: one row per bisection workflow id, upserted so a
 * retried activity or a restarted bisection updates its own row; linked from
 * the regression it explains.
 */
import type { Sql } from 'postgres';
import type { BisectStep, BisectionRecordEnd, BisectionRecordStart } from '../../domain/bisect';

type Json = Parameters<Sql['json']>[0];
const json = (sql: Sql, v: unknown) => sql.json(v as Json);

export function createBisectRecords({ sql }: { sql: Sql }) {
  return {
    /** returns the bisection's row id */
    async recordBisectionStart(rec: BisectionRecordStart): Promise<number> {
      return sql.begin(async (tx) => {
        const [row] = await tx`
          insert into bisections (workflow_id, tree, branch, good_sha, bad_sha, config, platform, lab, status)
          values (${rec.workflowId}, ${rec.tree}, ${rec.branch ?? null}, ${rec.good}, ${rec.bad}, ${rec.config}, ${rec.platform}, ${rec.lab}, 'running')
          on conflict (workflow_id) do update set status = 'running', finished_at = null
          returning id`;
        const id = Number(row.id);
        if (rec.regressionId !== undefined) {
          await tx`update regressions set bisection_id = ${id}, updated_at = now() where id = ${rec.regressionId}`;
        } else {
          await tx`update regressions set bisection_id = ${id}, updated_at = now()
                   where tree = ${rec.tree} and kind = 'boot' and config = ${rec.config} and platform = ${rec.platform}
                     and first_bad_sha = ${rec.bad} and bisection_id is null`;
        }
        return id;
      });
    },

    async recordBisectionSteps({ workflowId, steps }: { workflowId: string; steps: BisectStep[] }): Promise<void> {
      await sql`update bisections set steps = ${json(sql, steps)} where workflow_id = ${workflowId}`;
    },

    async recordBisectionEnd(rec: BisectionRecordEnd): Promise<void> {
      await sql`
        update bisections set status = ${rec.verdict.status}, culprit_sha = ${rec.verdict.culprit?.sha ?? null},
          verdict = ${json(sql, rec.verdict)}, steps = ${json(sql, rec.steps)}, bisect_log = ${rec.bisectLog}, finished_at = now()
        where workflow_id = ${rec.workflowId}`;
    },
  };
}
