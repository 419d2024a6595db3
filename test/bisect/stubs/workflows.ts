/**
 * The bisect workflow with a stand-in buildBoot child, for tests of the
 * bisection's own logic: the child asks the test's lab activity what
 * building and booting one commit gives (the test reads the commit's tree).
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BuildBootInput, BuildBootResult } from '../../../domain/types';

export { bisect } from '../../../workflows/bisect';

export interface StubLabActivities {
  stubBuildBoot(req: { input: BuildBootInput; workflowId: string }): Promise<BuildBootResult>;
}

// one attempt: an exception from the stand-in is a failed child, which the bisection must survive
const lab = proxyActivities<StubLabActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

export async function buildBoot(input: BuildBootInput): Promise<BuildBootResult> {
  return lab.stubBuildBoot({ input, workflowId: workflowInfo().workflowId });
}
