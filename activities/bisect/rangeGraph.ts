/**
 * The remaining bisection range as a graph, and how much of it each commit
 * reaches. Pure: the caller feeds `git rev-list --parents` output.
 */

export interface RangeGraph {
  /** commits of the range, children before parents (rev-list --topo-order) */
  shas: string[];
  /** in-range parent indexes of each commit */
  parents: number[][];
  index: Map<string, number>;
}

/** Parses `git rev-list --parents` lines; parents outside the range are dropped. */
export function parseRangeGraph(revListParents: string): RangeGraph {
  const rows = revListParents
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(' '));
  const index = new Map(rows.map((r, i) => [r[0], i]));
  const parents = rows.map((r) => r.slice(1).flatMap((p) => (index.has(p) ? [index.get(p)!] : [])));
  return { shas: rows.map((r) => r[0]), parents, index };
}

/**
 * weight(c) = number of range commits reachable from c, c included. A commit
 * with one in-range parent reaches exactly one more commit than its parent,
 * so only merges need a walk (git's bisect.c makes the same observation);
 * the cost is O(N × merges).
 */
export function rangeWeights(graph: RangeGraph): Int32Array {
  const n = graph.shas.length;
  const weight = new Int32Array(n);
  const seen = new Int32Array(n); // stamp per walk, so no clearing between walks
  let stamp = 0;
  for (let i = n - 1; i >= 0; i--) {
    const ps = graph.parents[i];
    if (ps.length === 0) weight[i] = 1;
    else if (ps.length === 1) weight[i] = weight[ps[0]] + 1;
    else {
      stamp++;
      let count = 0;
      const stack = [i];
      seen[i] = stamp;
      while (stack.length > 0) {
        const c = stack.pop()!;
        count++;
        for (const p of graph.parents[c]) {
          if (seen[p] !== stamp) {
            seen[p] = stamp;
            stack.push(p);
          }
        }
      }
      weight[i] = count;
    }
  }
  return weight;
}

/**
 * k-section: k commits whose weights are nearest to i·N/(k+1), i = 1..k, so
 * that on a line the outcomes cut the range into k+1 nearly equal parts.
 * Commits in `exclude` (skipped ones, the bad commit) are never picked; the
 * nearest testable commit stands in, which is also how a broken-build
 * stretch is stepped around. Ties go to the smaller sha, as in git's sort.
 */
export function pickKSection(graph: RangeGraph, weight: Int32Array, exclude: ReadonlySet<string>, k: number): number[] {
  const n = graph.shas.length;
  const testable: number[] = [];
  for (let i = 0; i < n; i++) if (!exclude.has(graph.shas[i])) testable.push(i);
  if (testable.length <= k) return testable.sort((a, b) => weight[a] - weight[b]);
  const chosen = new Set<number>();
  const picks: number[] = [];
  for (let part = 1; part <= k; part++) {
    const target = (part * n) / (k + 1);
    let best = -1;
    for (const i of testable) {
      if (chosen.has(i)) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const d = Math.abs(weight[i] - target);
      const bestD = Math.abs(weight[best] - target);
      if (d < bestD || (d === bestD && graph.shas[i] < graph.shas[best])) best = i;
    }
    chosen.add(best);
    picks.push(best);
  }
  return picks;
}
