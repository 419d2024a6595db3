/**
 * How boards (and builders) are shared when several trees wait for them:
 * Temporal task-queue priority and fairness (docs/labs.md). Every task of a
 * tree carries the tree's name as its fairness key and the tree's share as
 * its weight, so a queue hands out boots to the waiting trees in proportion
 * to their shares instead of first come, first served: a tree that pushes
 * second does not wait behind a whole revision of the first. Boots whose
 * verdict someone is waiting for (a bisection step, the confirmation of a
 * new failure) have a lower priority key and go before routine boots.
 *
 * Set on the workflows (revision, bisection) when they start; their child
 * workflows and activities inherit it. Pure: workflows import this.
 */
import type { Priority } from '@temporalio/common';

/** Temporal's priority keys: lower goes first; 1 to 5 on a server with the default levels, 3 when unset. */
export const PRIORITY_KEYS = {
  /** bisection steps and checks, confirmation boots of would-be regressions */
  verdict: 1,
  /** a revision's own builds and boots */
  routine: 3,
} as const;

export type BoardUse = keyof typeof PRIORITY_KEYS;

/** The priority of a tree's tasks of one kind; `share` is the tree's config `share` (default 1). */
export function boardPriority(use: BoardUse, tree: string, share = 1): Priority {
  return { priorityKey: PRIORITY_KEYS[use], fairnessKey: tree, fairnessWeight: share };
}
