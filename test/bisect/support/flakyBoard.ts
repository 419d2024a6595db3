/**
 * A board that fails a good kernel's boot now and then, like a real one
 * (a lost console, a firmware hang): whether a boot fails is drawn from the
 * seed and the boot's place in the bisection, never from the order boots
 * happen to run in nor from commit ids (a fixture history gets new shas
 * each time it is made), so a run with the same seed replays exactly.
 */
import { createHash } from 'node:crypto';

/** A number in [0, 1) from a string, stable across runs and machines. */
export function unitHash(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * What identifies a bisection's boot across runs: from a child's workflow
 * id or a boot key (`…:step:<sha>:a2:<platform>:<lab>:1`), its kind and
 * what follows, with the commit named by its place in the history.
 */
export function bootPlace(id: string, shas: string[]): string {
  const m = /:(step|verify|revert):([0-9a-f]{12,40})(.*)$/.exec(id);
  if (!m) return id;
  const index = shas.findIndex((s) => s.startsWith(m[2]));
  return `${m[1]}:${index >= 0 ? `c${index}` : m[2]}${m[3]}`;
}

/** Does the board fail this boot of a good kernel? */
export function flakes(seed: number, rate: number, place: string): boolean {
  return unitHash(`${seed}:${place}`) < rate;
}
