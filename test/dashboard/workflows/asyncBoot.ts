/** A boot on an API lab, reduced to its essence: one activity that some lab completes later. */
import { proxyActivities } from '@temporalio/workflow';
import type { LabActivities } from '../../../domain/activityContracts';
import type { BootRequest, BootResult } from '../../../domain/types';

const { bootKernel } = proxyActivities<LabActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 1 },
});

export async function asyncBoot(req: BootRequest): Promise<BootResult> {
  return bootKernel(req);
}
