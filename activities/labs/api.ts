/**
 * The `api` lab: a lab that runs no worker. The boot activity parks its task
 * token in lab_jobs and completes asynchronously; the lab lists its pending
 * jobs and posts the result over the REST API (dashboard/api/labApi.ts),
 * and that post completes the activity. Runs in the orchestrator process,
 * on the lab's own queue `lab-<name>`.
 */
import { CompleteAsyncError, Context } from '@temporalio/activity';
import type { Sql } from 'postgres';
import type { LabActivities } from '../../domain/activityContracts';
import type { BootRequest } from '../../domain/types';

export function createApiLabActivities({ sql }: { sql: Sql }): LabActivities {
  return {
    async bootKernel(req: BootRequest) {
      const token = Buffer.from(Context.current().info.taskToken);
      // A retried attempt has a new task token: the lab's pending job now answers that attempt.
      await sql`insert into lab_jobs (lab, boot_key, task_token, request)
                values (${req.lab}, ${req.bootKey}, ${token}, ${sql.json(JSON.parse(JSON.stringify(req)))})
                on conflict (boot_key) do update
                  set task_token = excluded.task_token, request = excluded.request, status = 'pending',
                      created_at = now(), completed_at = null`;
      throw new CompleteAsyncError();
    },
  };
}
