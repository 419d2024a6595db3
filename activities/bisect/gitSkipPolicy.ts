/**
 * What `git bisect next` does when some commits are skipped (bisect.c:
 * managed_skipped, filter_skipped, skip_away), reproduced so that a
 * one-board bisection tests exactly the commits `git bisect run` would:
 * when the best commit is skipped, git does not take the next best (likely
 * a neighbour broken the same way) but jumps a pseudo-random, deterministic
 * distance down the list sorted by distance.
 */

const PRN_MODULO = 32768;

/** bisect.c get_prn: an LCG step seeded with the count, in 32-bit unsigned arithmetic. */
export function gitPrn(count: number): number {
  const x = (Math.imul(count, 1103515245) + 12345) >>> 0;
  return Math.floor(x / 65536) % PRN_MODULO;
}

/** bisect.c sqrti: Newton's method in single-precision floats. */
export function gitSqrti(val: number): number {
  if (val === 0) return 0;
  const f = Math.fround;
  let x = f(val);
  let d: number;
  do {
    const y = f(f(x + f(f(val) / x)) / 2);
    d = y > x ? f(y - x) : f(x - y);
    x = y;
  } while (d >= 0.5);
  return Math.trunc(x);
}

export interface SkipPick {
  /** the commit to test next, or `bad` itself when nothing else is testable */
  pick: string;
  /** skipped commits of the range, in list order (git's "tried" list) */
  tried: string[];
}

/**
 * `sorted` is `git rev-list --bisect-all` order: distance descending, then sha.
 * Returns git's pick given the skipped set.
 */
export function pickWithSkips(sorted: string[], skipped: ReadonlySet<string>, bad: string): SkipPick {
  const tried = sorted.filter((s) => skipped.has(s));
  const filtered = sorted.filter((s) => !skipped.has(s));
  if (filtered.length === 0) return { pick: bad, tried };
  if (!skipped.has(sorted[0])) return { pick: sorted[0], tried: [] };
  const count = filtered.length;
  const prn = gitPrn(count);
  const index = Math.trunc((Math.trunc((count * prn) / PRN_MODULO) * gitSqrti(prn)) / gitSqrti(PRN_MODULO));
  if (index >= count) return { pick: filtered[0], tried };
  if (filtered[index] !== bad) return { pick: filtered[index], tried };
  return { pick: index > 0 ? filtered[index - 1] : filtered[0], tried };
}
