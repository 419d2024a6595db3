/**
 * How far a running pipeline has got, computed in one place so the
 * dashboard, `bootfarm status` and the Temporal Web UI show the same
 * figures. A revision's plan (its builds, and its boots per lab) is fixed
 * when the run is triggered and travels in the workflow's memo; what is done
 * is what has been recorded. A bisection's figures are its workflow's own
 * (the `bisectProgress` query). Pure: workflows import it too.
 */
import type { RevisionPipelineSpec } from './pipelineSpec';
import { bootTargets } from './pipelineSpec';

/** The memo key of a revision's plan. */
export const PLAN_MEMO = 'bfPlan';

/** What a revision will build and boot: per arch, its build configs and its boot targets per lab. */
export interface RevisionPlan {
  /** buildBoot children at once (the tree's concurrency) */
  concurrency: number;
  /** arch → number of build configs */
  configs: Record<string, number>;
  /** arch → lab → boot targets of one build of that arch */
  targets: Record<string, Record<string, number>>;
}

export function revisionPlan(
  spec: Pick<RevisionPipelineSpec, 'buildConfigs' | 'platforms' | 'labs' | 'concurrency'>,
): RevisionPlan {
  const plan: RevisionPlan = { concurrency: spec.concurrency, configs: {}, targets: {} };
  for (const c of spec.buildConfigs) {
    plan.configs[c.arch] = (plan.configs[c.arch] ?? 0) + 1;
    if (plan.targets[c.arch]) continue;
    const perLab: Record<string, number> = {};
    for (const t of bootTargets(spec, c)) perLab[t.lab.name] = (perLab[t.lab.name] ?? 0) + 1;
    plan.targets[c.arch] = perLab;
  }
  return plan;
}

/** What has been recorded of a revision so far (a pipeline's own boots: run 0). */
export interface RecordedWork {
  /** arch → status → builds */
  builds: Record<string, Record<string, number>>;
  /** lab → boots ended */
  boots: Record<string, number>;
}

/** Recent durations the ETA is estimated from: this run's when it has some, else the fleet's lately. */
export interface RecentDurations {
  /** mean build duration, ms */
  buildMs: number | null;
  /** lab → mean boot duration, ms */
  bootMs: Record<string, number>;
  /** lab → boots it runs at once (its boards) */
  bootParallel: Record<string, number>;
}

export interface Tally {
  done: number;
  total: number;
}

export interface RevisionProgress {
  builds: Tally & { failed: number };
  boots: Tally & { labs: Record<string, Tally> };
  /** seconds until everything is done, from recent durations; null when there is nothing to go on */
  etaSeconds: number | null;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function revisionProgress(
  plan: RevisionPlan,
  recorded: RecordedWork,
  recent?: RecentDurations,
): RevisionProgress {
  const arches = Object.keys(plan.configs);
  const labs = [...new Set(arches.flatMap((a) => Object.keys(plan.targets[a] ?? {})))].sort();
  let buildsDone = 0;
  let failed = 0;
  const labs0: Record<string, Tally> = Object.fromEntries(labs.map((l) => [l, { done: 0, total: 0 }]));
  for (const arch of arches) {
    const byStatus = recorded.builds[arch] ?? {};
    const done = Math.min(plan.configs[arch], sum(Object.values(byStatus)));
    // A build that did not pass boots nothing: its boots leave the plan.
    const notPassed = Math.min(done, done - (byStatus.pass ?? 0));
    buildsDone += done;
    failed += notPassed;
    for (const [lab, n] of Object.entries(plan.targets[arch] ?? {}))
      labs0[lab].total += n * (plan.configs[arch] - notPassed);
  }
  for (const lab of labs) labs0[lab].done = Math.min(labs0[lab].total, recorded.boots[lab] ?? 0);
  const buildsTotal = sum(Object.values(plan.configs));
  const boots = { done: sum(labs.map((l) => labs0[l].done)), total: sum(labs.map((l) => labs0[l].total)) };
  return {
    builds: { done: buildsDone, total: buildsTotal, failed },
    boots: { ...boots, labs: labs0 },
    etaSeconds: recent ? revisionEta(plan, buildsTotal - buildsDone, labs0, recent) : null,
  };
}

/**
 * Builds left at `buildParallel` at once, then the slowest lab's boots left
 * at its boards' pace: a rough figure, but one every view agrees on.
 */
function revisionEta(
  plan: RevisionPlan,
  buildsLeft: number,
  labs: Record<string, Tally>,
  recent: RecentDurations,
): number | null {
  const bootsLeft = Object.entries(labs).filter(([, t]) => t.total > t.done);
  if (buildsLeft > 0 && recent.buildMs === null) return null;
  if (bootsLeft.some(([lab]) => recent.bootMs[lab] === undefined)) return null;
  const buildPhase = buildsLeft > 0 ? Math.ceil(buildsLeft / Math.max(1, plan.concurrency)) * (recent.buildMs ?? 0) : 0;
  const bootPhase = Math.max(
    0,
    ...bootsLeft.map(
      ([lab, t]) => Math.ceil((t.total - t.done) / Math.max(1, recent.bootParallel[lab] ?? 1)) * recent.bootMs[lab],
    ),
  );
  return Math.round((buildPhase + bootPhase) / 1000);
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.round(seconds / 60);
  return m < 120 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "builds 2/3 (1 failed), boots 3/5 (farm2 1/2, qemu 2/3), about 40 s left" */
export function formatRevisionProgress(p: RevisionProgress): string {
  const labs = Object.entries(p.boots.labs)
    .map(([lab, t]) => `${lab} ${t.done}/${t.total}`)
    .join(', ');
  return [
    `builds ${p.builds.done}/${p.builds.total}${p.builds.failed ? ` (${p.builds.failed} not passed)` : ''}`,
    `boots ${p.boots.done}/${p.boots.total}${labs ? ` (${labs})` : ''}`,
    p.etaSeconds === null ? 'time left unknown' : `about ${formatDuration(p.etaSeconds)} left`,
  ].join(', ');
}

/** The query a bisection answers with its BisectionProgress (workflows/bisect/progress.ts). */
export const BISECT_PROGRESS_QUERY = 'bisectProgress';

/** A bisection's own account: where it is and how much is left. */
export interface BisectionProgress {
  /** `checks`: the culprit's verification and the bad commit with it reverted, booted at once */
  phase: 'endpoints' | 'search' | 'checks' | 'report' | 'done';
  round: number;
  /** commits still in the range (the bad one included) when the last round was chosen; null before the first */
  remaining: number | null;
  /** commits of the range tested so far (endpoints, candidates, re-tests of either count once) */
  tested: number;
  /** boots run so far, every series included (a flaky board's steps boot more than once) */
  boots: number;
  /** candidates tested per round */
  parallel: number;
  /** search rounds still to come, at most */
  roundsLeft: number | null;
  /** when the bisection started (ISO 8601, workflow time) */
  startedAt: string;
}

/** Rounds a search of `remaining` commits still needs with k candidates a round: each round keeps 1/(k+1). */
export function roundsLeft(remaining: number, k: number): number {
  let left = 0;
  for (let n = remaining; n > 1; n = Math.ceil(n / (k + 1))) left++;
  return left;
}

/** ETA: the rounds left at the pace of this bisection's rounds so far, plus its two checks. */
export function bisectionEtaSeconds(p: BisectionProgress, nowMs: number): number | null {
  if (p.roundsLeft === null || p.round === 0) return null;
  const perRound = (nowMs - Date.parse(p.startedAt)) / (p.round + 1);
  // the checks take about a round (verify and revert boot at once)
  const checks = p.phase === 'search' ? 1 : p.phase === 'checks' ? 0.5 : 0;
  return Math.round(((p.roundsLeft + checks) * perRound) / 1000);
}

export function formatBisectionProgress(p: BisectionProgress, nowMs: number): string {
  const eta = bisectionEtaSeconds(p, nowMs);
  return [
    p.phase === 'search' ? `round ${p.round}` : p.phase,
    p.remaining !== null ? `${p.remaining} commit(s) left` : '',
    `${p.tested} tested in ${p.boots} boot(s)`,
    p.roundsLeft !== null && p.phase === 'search' ? `at most ${p.roundsLeft} round(s) to go` : '',
    eta !== null && p.phase !== 'done' ? `about ${formatDuration(eta)} left` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** The orchestrator worker, as a local activity of the revision pipeline (activities/pipeline/progress.ts). */
export interface ProgressActivities {
  /** the revision's figures from what is recorded now */
  revisionProgress(req: { tree: string; sha: string; plan: RevisionPlan }): Promise<RevisionProgress>;
}
