/**
 * Flakiness of a boot series (build config, platform, lab), kept instead of
 * rediscovered (docs/reports.md). Pure: the regression activities compute
 * it from the revisions' boots, the pipeline reads the bound from here.
 *
 * A *kernel* is one build of a tested revision (the revision's own rows, not
 * a bisection's). Its *verdict* in a lab is its latest boot there that gave
 * one (pass or fail); a later boot of the same kernel is a confirmation. A
 * *flake* is a boot whose verdict differs from its kernel's verdict on the
 * same platform in the same lab: the same kernel, booted again on the same
 * kind of board, answered the other way. The *flake rate* of a series is
 * flakes / verdict boots over its last FLAKE_WINDOW kernels.
 *
 * Only boots that decide something are booted again (a failure that would be
 * a regression, a pass that would close one), so the rate is measured where
 * it matters and is a lower bound of the board's own failure rate.
 *
 * How many confirmation boots a verdict needs is sized on an estimate that
 * does not trust a short history: (flakes + 1) / (boots + 2), Laplace's rule
 * of succession. A series Bootfarm has barely seen is assumed unreliable (a
 * board's first oops is booted again up to MAX_CONFIRMATIONS times), one with
 * twenty clean kernels needs what the tree configures.
 */

/** Kernels of a series the flake rate looks at, newest first. */
export const FLAKE_WINDOW = 20;

/** Upper bound of confirmation boots of one series at one revision (the pipeline's loop bound). */
export const MAX_CONFIRMATIONS = 5;

/** The chance of a wrong verdict Bootfarm accepts: boots that must agree are added until flakes that agree by chance are rarer. */
export const FALSE_VERDICT_RISK = 0.01;

/** One kernel of a series: its verdict boots in run order. */
export interface KernelBoots {
  tree: string;
  sha: string;
  /** 'pass' | 'fail', in run order */
  outcomes: ('pass' | 'fail')[];
}

export interface FlakeSummary {
  kernels: number;
  boots: number;
  flakes: number;
  /** flakes / boots; 0 with no boots */
  flakeRate: number;
  /** newest kernel first; outcomes as letters (F fail, P pass) in run order */
  series: { tree: string; sha: string; outcomes: string }[];
}

/** The flake summary of a series from its kernels, newest first (at most FLAKE_WINDOW are counted). */
export function flakeSummary(kernels: KernelBoots[]): FlakeSummary {
  const recent = kernels.filter((k) => k.outcomes.length > 0).slice(0, FLAKE_WINDOW);
  let boots = 0;
  let flakes = 0;
  for (const k of recent) {
    const verdict = k.outcomes[k.outcomes.length - 1];
    boots += k.outcomes.length;
    flakes += k.outcomes.filter((o) => o !== verdict).length;
  }
  return {
    kernels: recent.length,
    boots,
    flakes,
    flakeRate: boots ? flakes / boots : 0,
    series: recent.map((k) => ({
      tree: k.tree,
      sha: k.sha,
      outcomes: k.outcomes.map((o) => (o === 'pass' ? 'P' : 'F')).join(''),
    })),
  };
}

/** The flake rate confirmations are sized on: flakes and boots seen, with one of each assumed (rule of succession). */
export function flakeEstimate(flakes: number, boots: number): number {
  return (flakes + 1) / (boots + 2);
}

/**
 * Confirmation boots a verdict change needs on a series with this flake rate:
 * at least `configured` (the tree's `confirmations`), and enough that the
 * first boot and its confirmations all flaking the same way is rarer than
 * FALSE_VERDICT_RISK (rate^boots ≤ risk); at most MAX_CONFIRMATIONS.
 */
export function confirmationsNeeded(configured: number, flakeRate: number): number {
  const floor = Math.min(Math.max(0, configured), MAX_CONFIRMATIONS);
  if (!(flakeRate > 0)) return floor;
  if (flakeRate >= 1) return MAX_CONFIRMATIONS;
  // the 1e-9 keeps float noise (log 0.01 / log 0.1 = 2.0000000000000004) from asking one boot more
  const agreeing = Math.ceil(Math.log(FALSE_VERDICT_RISK) / Math.log(flakeRate) - 1e-9);
  return Math.min(MAX_CONFIRMATIONS, Math.max(floor, agreeing - 1));
}
