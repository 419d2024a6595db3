/**
 * The ids of workflow patches (`patched()`): a change to what a running
 * workflow does next is taken only by runs that reach that point under the
 * new code, so runs in flight at a deploy replay as they ran.
 */

/**
 * Boots go to one task queue per (lab, platform) instead of one per lab, the
 * check before dispatch asks per platform, a boot that waited its lab's
 * schedule-to-start on a served but busy platform is queued again instead of
 * being recorded offline, and boots carry their priority. Runs from before
 * keep `lab-<lab>` and the per-lab check.
 */
export const BOARD_QUEUES_PATCH = 'board-queues';
