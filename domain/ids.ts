/**
 * Every workflow id format is written here once. A workflow id is the
 * idempotency key of its trigger: starting an id that exists never makes a
 * second run.
 */
export function sha12(sha: string): string {
  return sha.slice(0, 12);
}

/** Workflow ids (and so artifact keys) carry the full sha: 12 hex digits can be made to collide on purpose. */
function idsWith(shaPart: (sha: string) => string) {
  return {
    treeMonitor: (tree: string, branch: string) => `monitor:${tree}:${branch}`,
    revision: (tree: string, branch: string, sha: string) => `rev:${tree}:${branch}:${shaPart(sha)}`,
    /** the build and boot reports of a revision (a child of its revisionPipeline) */
    report: (tree: string, branch: string, sha: string) => `report:${tree}:${branch}:${shaPart(sha)}`,
    buildBoot: (tree: string, sha: string, config: string) => `build:${tree}:${shaPart(sha)}:${config}`,
    bisect: (tree: string, badSha: string, config: string, platform: string) =>
      `bisect:${tree}:${shaPart(badSha)}:${config}:${platform}`,
    /**
     * one bisection step: the candidate's build-boot; attempt > 1 after an infrastructure error. Still 12
     * digits under its (full-sha) bisection's id: changing it needs a patched() in the bisect workflow.
     */
    bisectStep: (bisectId: string, sha: string, attempt = 1) =>
      `${bisectId}:step:${sha12(sha)}${attempt > 1 ? `:a${attempt}` : ''}`,
    /** the n-th verification of a culprit (repeated boots of one build) */
    bisectVerify: (bisectId: string, n: number) => `${bisectId}:verify:${n}`,
    /** the n-th boot series of the bad commit with the culprit reverted */
    bisectRevert: (bisectId: string, n: number) => `${bisectId}:revert:${n}`,
    schedule: (tree: string, branch: string) => `monitor:${tree}:${branch}`,
  };
}

export type WorkflowIds = ReturnType<typeof idsWith>;

export const workflowIds: WorkflowIds = idsWith((sha) => sha);

/** The patch id guarding the change to full-sha ids in running workflows (workflows/childIds.ts). */
export const FULL_SHA_IDS_PATCH = 'full-sha-workflow-ids';

/** The ids of workflows started before ids carried full shas: replaying one must name its children as it did. */
export const shortShaWorkflowIds: WorkflowIds = idsWith(sha12);

/**
 * Every task queue name, written once. Boots go to one queue per (lab,
 * platform), polled by workers that take at most as many boots as the lab has
 * boards of that platform: Temporal hands a boot out only when a board of its
 * kind is free (docs/labs.md).
 */
export const taskQueues = {
  orchestrator: 'bootfarm',
  build: (arch?: string) => (arch ? `build-${arch}` : 'build'),
  /** the boards of one platform in one lab */
  labPlatform: (lab: string, platform: string) => `lab-${lab}-${platform}`,
  /**
   * One queue for a whole lab: where buildBoot runs started before the
   * per-platform queues (workflows/patches.ts) sent their boots.
   * Kept so that those runs replay; no worker polls it any more.
   */
  lab: (lab: string) => `lab-${lab}`,
};
