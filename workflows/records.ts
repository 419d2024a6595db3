/**
 * Recording results is the orchestrator's own bookkeeping: the pipeline's
 * workflows record through local activities, run by the orchestrator worker
 * that runs the workflow, instead of a round trip through the `bootfarm`
 * task queue for each row. Every record is an idempotent upsert, so a local
 * activity run again after a workflow task retry writes the same row.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { ResultActivities } from '../domain/activityContracts';
import { localBookkeeping } from './activityOptions';

export const records = proxyLocalActivities<ResultActivities>(localBookkeeping);
