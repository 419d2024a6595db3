/**
 * A board that fails a good kernel's boot now and then, like a real one
 * (a lost console, a firmware hang): whether a boot fails is drawn from the
 * seed and the boot's place in the bisection (its child id without the
 * bisection's own unique prefix, and its run), never from the order boots
 * happen to run in, so a run with the same seed replays exactly.
 */
import { createHash } from 'node:crypto';

/** A number in [0, 1) from a string, stable across runs and machines. */
export function unitHash(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0) / 2 ** 32;
}

/** What identifies a bisection child across runs: its kind, commit and number, not the bisection's id. */
export function childKey(workflowId: string): string {
  const m = /:(step|verify|revert):(.*)$/.exec(workflowId);
  return m ? `${m[1]}:${m[2]}` : workflowId;
}

/** Does the board fail this boot of a good kernel? */
export function flakes(seed: number, rate: number, workflowId: string, run: number): boolean {
  return unitHash(`${seed}:${childKey(workflowId)}:${run}`) < rate;
}
