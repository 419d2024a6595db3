/**
 * Every workflow id format is written here once. A workflow id is the
 * idempotency key of its trigger: starting an id that exists never makes a
 * second run.
 */
export function sha12(sha: string): string {
  return sha.slice(0, 12);
}

export const workflowIds = {
  treeMonitor: (tree: string, branch: string) => `monitor:${tree}:${branch}`,
  revision: (tree: string, branch: string, sha: string) => `rev:${tree}:${branch}:${sha12(sha)}`,
  /** the build and boot reports of a revision (a child of its revisionPipeline) */
  report: (tree: string, branch: string, sha: string) => `report:${tree}:${branch}:${sha12(sha)}`,
  buildBoot: (tree: string, sha: string, config: string) => `build:${tree}:${sha12(sha)}:${config}`,
  bisect: (tree: string, badSha: string, config: string, platform: string) =>
    `bisect:${tree}:${sha12(badSha)}:${config}:${platform}`,
  /** one bisection step: the candidate's build-boot; attempt > 1 after an infrastructure error */
  bisectStep: (bisectId: string, sha: string, attempt = 1) =>
    `${bisectId}:step:${sha12(sha)}${attempt > 1 ? `:a${attempt}` : ''}`,
  /** the n-th verification of a culprit (repeated boots of one build) */
  bisectVerify: (bisectId: string, n: number) => `${bisectId}:verify:${n}`,
  /** the n-th boot series of the bad commit with the culprit reverted */
  bisectRevert: (bisectId: string, n: number) => `${bisectId}:revert:${n}`,
  schedule: (tree: string, branch: string) => `monitor:${tree}:${branch}`,
};

export const taskQueues = {
  orchestrator: 'bootfarm',
  build: (arch?: string) => (arch ? `build-${arch}` : 'build'),
  lab: (lab: string) => `lab-${lab}`,
};
