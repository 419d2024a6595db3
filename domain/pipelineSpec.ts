/**
 * What a revision pipeline needs to know about its tree, cut from the config
 * when the run is triggered and carried in the workflow input, so a running
 * pipeline is self-contained: editing bootfarm.yaml never changes (or breaks)
 * a run already in flight. Also the start options every starter uses (the
 * monitor, `bootfarm run`), so ids, summaries and search attributes are the
 * same whoever starts a run. Pure: workflows and clients both import this.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { BootfarmConfig, BuildConfig, PlatformConfig, ReportConfig, TreeConfig } from './config';
import { labAttempts, type BootTarget, type BuildBootInput } from './types';
import { sha12, taskQueues, workflowIds, type WorkflowIds } from './ids';
import { SA } from './searchAttributes';
import { boardPriority } from './boardPriority';
import { PLAN_MEMO, revisionPlan } from './progress';
import { bootTests, testPlanSpecs, type TestPlanSpec } from './testPlans';

export type LabSpec = BootTarget['lab'] & { platforms: string[] };

export interface RevisionPipelineSpec {
  tree: string;
  branch: string;
  url: string;
  buildConfigs: BuildConfig[];
  /** platforms of the build configs' arches that some lab can boot */
  platforms: PlatformConfig[];
  /** labs that have at least one of those platforms */
  labs: LabSpec[];
  /** buildBoot children running at once */
  concurrency: number;
  report: ReportConfig;
  bisect: TreeConfig['bisect'];
  /** boot failures that would be new regressions are booted again this many times first (default 1) */
  confirmations?: number;
  /** the tree's share of boards when trees wait for the same ones (domain/boardPriority.ts); absent = 1 */
  share?: number;
  /** the tree's test plans, run after each successful boot they apply to (absent: none) */
  testPlans?: TestPlanSpec[];
  /** route builds to `build-<arch>` (builders that specialise) */
  buildQueueByArch?: boolean;
  /** prepended to build and lab task queue names (isolated tests, staging) */
  taskQueuePrefix?: string;
}

export interface RevisionPipelineInput extends RevisionPipelineSpec {
  /** the commit to test: a full sha (the branch head from ls-remote, or the one given by hand) */
  sha: string;
  /**
   * A forced re-run: a name appended to this run's workflow id and its
   * children's ids so it does not collide with earlier runs of the same
   * revision (`bootfarm run --force`). Absent for the normal, idempotent run.
   */
  run?: string;
}

/** A Schedule runs the monitor with the same spec every time; it starts pipelines with it. */
export type TreeMonitorInput = RevisionPipelineSpec;

export class PipelineSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineSpecError';
  }
}

/** The lab settings a boot needs, cut from the lab's config. */
export const labTarget = (l: BootTarget['lab']): BootTarget['lab'] => ({
  name: l.name,
  adapter: l.adapter,
  scheduleToStartTimeout: l.scheduleToStartTimeout,
  bootTimeout: l.bootTimeout,
  attempts: labAttempts(l),
  offlineGrace: l.offlineGrace,
  ...(l.bootMargin !== undefined ? { bootMargin: l.bootMargin } : {}),
  ...(l.heartbeatTimeout !== undefined ? { heartbeatTimeout: l.heartbeatTimeout } : {}),
});

/** The slice of a validated config that one tree/branch's pipeline runs with. */
export function pipelineSpecFor(
  cfg: Pick<BootfarmConfig, 'trees' | 'buildConfigs' | 'platforms' | 'labs'> &
    Partial<Pick<BootfarmConfig, 'testSuites' | 'testPlans'>>,
  tree: string,
  branch: string,
  opts: { buildQueueByArch?: boolean; taskQueuePrefix?: string } = {},
): RevisionPipelineSpec {
  const t = cfg.trees.find((x) => x.name === tree);
  if (!t)
    throw new PipelineSpecError(
      `no tree ${JSON.stringify(tree)} in the config (trees: ${cfg.trees.map((x) => x.name).join(', ') || 'none'})`,
    );
  const buildConfigs = t.buildConfigs.map((name) => {
    const c = cfg.buildConfigs.find((x) => x.name === name);
    if (!c) throw new PipelineSpecError(`tree ${tree}: unknown build config ${JSON.stringify(name)}`);
    return c;
  });
  const arches = new Set(buildConfigs.map((c) => c.arch));
  const bootable = new Set(cfg.labs.flatMap((l) => l.platforms.map((p) => p.name)));
  const platforms = cfg.platforms.filter((p) => arches.has(p.arch) && bootable.has(p.name));
  const names = new Set(platforms.map((p) => p.name));
  const labs = cfg.labs
    .map((l) => ({ ...labTarget(l), platforms: l.platforms.map((p) => p.name).filter((n) => names.has(n)) }))
    .filter((l) => l.platforms.length > 0);
  const testPlans = testPlanSpecs(
    { testSuites: cfg.testSuites ?? [], testPlans: cfg.testPlans ?? [] },
    t.testPlans ?? [],
  );
  return {
    tree: t.name,
    branch,
    url: t.url,
    buildConfigs,
    platforms,
    labs,
    concurrency: t.concurrency,
    report: t.report,
    bisect: t.bisect,
    confirmations: t.confirmations,
    ...(t.share !== 1 ? { share: t.share } : {}),
    ...(testPlans.length ? { testPlans } : {}),
    ...(opts.buildQueueByArch ? { buildQueueByArch: true } : {}),
    ...(opts.taskQueuePrefix ? { taskQueuePrefix: opts.taskQueuePrefix } : {}),
  };
}

/** Every platform of the build's arch, on every lab that has it, with the test plans that apply to it. */
export function bootTargets(
  spec: Pick<RevisionPipelineSpec, 'platforms' | 'labs' | 'testPlans'>,
  config: BuildConfig,
): BootTarget[] {
  return spec.platforms
    .filter((p) => p.arch === config.arch)
    .flatMap((platform) => {
      const tests = bootTests(spec.testPlans, config, platform);
      return spec.labs
        .filter((l) => l.platforms.includes(platform.name))
        .map((l) => ({ platform, lab: labTarget(l), ...(tests ? { tests } : {}) }));
    });
}

const withRun = (id: string, run: string | undefined) => (run ? `${id}:${run}` : id);

export function revisionWorkflowId(
  input: { tree: string; branch: string; sha: string; run?: string },
  ids: WorkflowIds = workflowIds,
): string {
  return withRun(ids.revision(input.tree, input.branch, input.sha), input.run);
}

export function buildBootWorkflowId(
  input: { tree: string; sha: string; run?: string },
  config: string,
  ids: WorkflowIds = workflowIds,
): string {
  return withRun(ids.buildBoot(input.tree, input.sha, config), input.run);
}

export function buildQueue(input: Pick<BuildBootInput, 'config' | 'buildQueueByArch' | 'taskQueuePrefix'>): string {
  return (input.taskQueuePrefix ?? '') + taskQueues.build(input.buildQueueByArch ? input.config.arch : undefined);
}

/** The queue of a lab's boards of one platform. */
export function boardQueue(input: Pick<BuildBootInput, 'taskQueuePrefix'>, lab: string, platform: string): string {
  return (input.taskQueuePrefix ?? '') + taskQueues.labPlatform(lab, platform);
}

/** The one queue of a whole lab, for runs started before the per-platform queues (workflows/patches.ts). */
export function labQueue(input: Pick<BuildBootInput, 'taskQueuePrefix'>, lab: string): string {
  return (input.taskQueuePrefix ?? '') + taskQueues.lab(lab);
}

/**
 * How any starter starts a revision pipeline. The id is the trigger's
 * idempotency key; a run that failed may be started again (the next poll
 * retries it), one that completed may not.
 */
export function revisionStartOptions(input: RevisionPipelineInput, ids: WorkflowIds = workflowIds) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: SA.tree, value: input.tree },
    { key: SA.branch, value: input.branch },
    { key: SA.commit, value: input.sha },
    { key: SA.kind, value: 'revision' },
  ];
  const labs = input.labs.map((l) => `${l.name} (${l.adapter})`).join(', ') || 'none';
  return {
    workflowId: revisionWorkflowId(input, ids),
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const,
    typedSearchAttributes,
    // inherited by its builds, boots and children: the tree's fair share of builders and boards
    priority: boardPriority('routine', input.tree, input.share),
    // What the run will build and boot, for progress (domain/progress.ts): readable from the workflow list.
    memo: { [PLAN_MEMO]: revisionPlan(input) },
    staticSummary: `revision ${input.tree}/${input.branch} ${sha12(input.sha)}${input.run ? ` (re-run ${input.run})` : ''}`,
    staticDetails: [
      `**tree** ${input.tree} (${input.url})`,
      `**branch** ${input.branch}`,
      `**commit** ${input.sha}`,
      `**build configs** ${input.buildConfigs.map((c) => c.name).join(', ')}`,
      `**platforms** ${input.platforms.map((p) => p.name).join(', ') || 'none'}`,
      `**labs** ${labs}`,
    ].join('\n'),
  };
}

/** How a revision pipeline starts one buildBoot child. */
export function buildBootStartOptions(
  input: BuildBootInput & { run?: string },
  describe: string,
  ids: WorkflowIds = workflowIds,
) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: SA.tree, value: input.tree },
    ...(input.branch ? [{ key: SA.branch, value: input.branch }] : []),
    { key: SA.commit, value: input.sha },
    { key: SA.config, value: input.config.name },
    { key: SA.kind, value: 'build' },
  ];
  const c = input.config;
  return {
    workflowId: buildBootWorkflowId(input, c.name, ids),
    // A completed build of this commit and config is reused, a failed one is run again.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const,
    typedSearchAttributes,
    staticSummary: `build ${c.name} of ${input.tree} ${describe}`,
    staticDetails: [
      `**tree** ${input.tree}${input.branch ? ` (${input.branch})` : ''}`,
      `**revision** ${describe} (${input.sha})`,
      `**config** ${c.name}: ARCH ${c.arch}, ${c.defconfig}${c.fragments.length ? ` + ${c.fragments.join(' ')}` : ''}, ${c.toolchain}`,
      `**boots** ${input.targets.map((t) => `${t.platform.name}@${t.lab.name}`).join(', ') || 'none'}`,
    ].join('\n'),
  };
}
