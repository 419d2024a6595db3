/**
 * Test plans: what runs after a successful boot, in the same boot session.
 *
 * The config declares the test suites the labs' kernels and ramdisks have
 * (`testSuites`: a name, the prefix of its results' paths, the arches that
 * have it) and named plans over them (`testPlans`: suites, a timeout, and
 * optionally the platforms and build configs it is for); a tree chooses
 * plans by name (`trees[].testPlans`). A pipeline carries the tree's plans
 * (TestPlanSpec, cut from the config when the run is triggered), and each
 * boot target gets the suites that apply to its build config and platform
 * (BootTests), which the lab adapters run after the boot marker.
 *
 * Pure code: workflows import it.
 */
import { z } from 'zod';
import { archField, durationField, nameField } from './configFields';
import { PATH_SEGMENT, TEST_PATH } from './ktap';

/** A plan's timeout: what its tests may take after the boot marker. */
export const TEST_TIMEOUT_MIN_MS = 5_000;
export const TEST_TIMEOUT_MAX_MS = 6 * 3_600_000;
/** What the tests of one boot may take in all (the sum of the timeouts of the plans that apply to it). */
export const BOOT_TESTS_MAX_MS = 12 * 3_600_000;
/** Suites one boot may run. */
export const MAX_SUITES_PER_BOOT = 32;
/** The suites reach the guest on its kernel command line, which is 1 KiB in all on 32-bit ARM. */
export const MAX_TESTS_KERNEL_ARG = 512;

/** The kernel command-line parameter that tells a ramdisk's runner which suites to run: `bootfarm.tests=timers,size`. */
export const TESTS_KERNEL_PARAM = 'bootfarm.tests';

const suiteName = z
  .string()
  .max(64)
  .regex(PATH_SEGMENT, 'a suite name of letters, digits, _ and - (a segment of the test paths)');

export const testSuiteSchema = z.strictObject({
  /** as its runner prints it: the KTAP result name of the suite, or kselftest's collection */
  name: suiteName,
  /** the start of its results' paths: `kselftest` gives kselftest.timers.posix_timers */
  prefix: z.string().max(64).regex(TEST_PATH, 'dotted segments of letters, digits, _ and -, e.g. kselftest or fixture'),
  /** the architectures whose kernels or ramdisks have the suite */
  arches: z.array(archField).min(1),
});

const formatMs = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`);

export const testPlanSchema = z.strictObject({
  name: nameField,
  /** run in this order after the boot marker */
  suites: z.array(suiteName).min(1).max(MAX_SUITES_PER_BOOT),
  /** what the plan's tests may take after the boot marker; the lab stops the board then */
  timeout: durationField
    .prefault('5m')
    .refine(
      (ms) => ms >= TEST_TIMEOUT_MIN_MS && ms <= TEST_TIMEOUT_MAX_MS,
      `a timeout from ${formatMs(TEST_TIMEOUT_MIN_MS)} to ${formatMs(TEST_TIMEOUT_MAX_MS)}`,
    ),
  /** only on these platforms (default: every platform the tree boots) */
  platforms: z.array(nameField).min(1).optional(),
  /** only for these build configs (default: every one of the tree's) */
  configs: z.array(nameField).min(1).optional(),
});

/** `trees[].testPlans`: the plans the tree's boots run. */
export const treeTestPlans = z.array(nameField).default([]);

export type TestSuiteConfig = z.output<typeof testSuiteSchema>;
export type TestPlanConfig = z.output<typeof testPlanSchema>;

// --- what workflows carry ----------------------------------------------------

/** A plan as a pipeline carries it: its suites resolved from the config's catalogue. */
export interface TestPlanSpec {
  name: string;
  suites: TestSuiteConfig[];
  timeoutMs: number;
  platforms?: string[];
  configs?: string[];
}

/** One suite a boot runs, and the plan that asked for it. */
export interface PlannedSuite {
  plan: string;
  suite: string;
  /** the start of its results' paths */
  prefix: string;
}

/**
 * What a boot runs after its marker (BootTarget.tests, BootRequest.tests):
 * the suites of every plan that applies to the boot's build config and
 * platform, in the tree's plan order, each suite once.
 */
export interface BootTests {
  suites: PlannedSuite[];
  /** what the tests may take after the boot marker: the sum of the plans' timeouts */
  timeoutMs: number;
  /** test paths whose statuses the boot's result carries inline (TestSummary.focus), e.g. a bisection's target */
  focus?: string[];
}

/** The tree's plans, for the pipeline's spec (the config has been checked: every name resolves). */
export function testPlanSpecs(
  cfg: { testSuites: TestSuiteConfig[]; testPlans: TestPlanConfig[] },
  planNames: readonly string[],
): TestPlanSpec[] {
  return planNames.flatMap((name) => {
    const plan = cfg.testPlans.find((p) => p.name === name);
    if (!plan) return [];
    const suites = plan.suites.flatMap((s) => cfg.testSuites.filter((c) => c.name === s));
    return [
      {
        name: plan.name,
        suites,
        timeoutMs: plan.timeout,
        ...(plan.platforms ? { platforms: plan.platforms } : {}),
        ...(plan.configs ? { configs: plan.configs } : {}),
      },
    ];
  });
}

/** Whether a plan runs on boots of this build config on this platform. */
export function planApplies(
  plan: Pick<TestPlanSpec, 'platforms' | 'configs'>,
  config: { name: string },
  platform: { name: string },
): boolean {
  return (
    (!plan.platforms || plan.platforms.includes(platform.name)) && (!plan.configs || plan.configs.includes(config.name))
  );
}

/** What a boot of `config` on `platform` runs after its marker; undefined when no plan applies. */
export function bootTests(
  plans: readonly TestPlanSpec[] | undefined,
  config: { name: string; arch: string },
  platform: { name: string; arch: string },
): BootTests | undefined {
  const suites: PlannedSuite[] = [];
  let timeoutMs = 0;
  for (const plan of plans ?? []) {
    if (!planApplies(plan, config, platform)) continue;
    const fresh = plan.suites.filter(
      (s) => s.arches.includes(platform.arch) && !suites.some((p) => p.suite === s.name),
    );
    if (!fresh.length) continue;
    suites.push(...fresh.map((s) => ({ plan: plan.name, suite: s.name, prefix: s.prefix })));
    timeoutMs += plan.timeoutMs;
  }
  return suites.length ? { suites, timeoutMs } : undefined;
}

/** The guest's side of the plan: `bootfarm.tests=timers,size` on the kernel command line. */
export function testsKernelArg(tests: Pick<BootTests, 'suites'>): string {
  return `${TESTS_KERNEL_PARAM}=${tests.suites.map((s) => s.suite).join(',')}`;
}

// --- config check -------------------------------------------------------------

interface CheckedConfig {
  testSuites: TestSuiteConfig[];
  testPlans: TestPlanConfig[];
  trees: { name: string; buildConfigs: string[]; testPlans: string[] }[];
  platforms: { name: string; arch: string }[];
  buildConfigs: { name: string; arch: string }[];
}

type Issue = { path: (string | number)[]; message: string };

const quoted = (s: string) => JSON.stringify(s);
const listed = (names: string[]) => names.map(quoted).join(', ') || 'none';

/**
 * Every problem of the test sections: unknown or duplicate names, a plan
 * whose suite does not exist for the arch of a platform it would run on, a
 * tree naming an unknown plan, a tree whose plans take too long for one boot.
 */
export function testPlanIssues(cfg: CheckedConfig): Issue[] {
  const issues: Issue[] = [];
  const suites = new Map(cfg.testSuites.map((s) => [s.name, s]));
  const plans = new Map(cfg.testPlans.map((p) => [p.name, p]));
  const duplicates = (items: { name: string }[], section: string) => {
    const seen = new Set<string>();
    items.forEach((it, i) => {
      if (seen.has(it.name)) issues.push({ path: [section, i, 'name'], message: `duplicate name ${quoted(it.name)}` });
      seen.add(it.name);
    });
  };
  duplicates(cfg.testSuites, 'testSuites');
  duplicates(cfg.testPlans, 'testPlans');

  cfg.testPlans.forEach((plan, i) => {
    const known = (names: string[] | undefined, field: string, all: { name: string }[], what: string) =>
      names?.forEach((n, j) => {
        if (!all.some((x) => x.name === n))
          issues.push({
            path: ['testPlans', i, field, j],
            message: `plan ${quoted(plan.name)}: unknown ${what} ${quoted(n)} (known: ${listed(all.map((x) => x.name))})`,
          });
      });
    known(plan.platforms, 'platforms', cfg.platforms, 'platform');
    known(plan.configs, 'configs', cfg.buildConfigs, 'build config');
    // the platforms the plan can run on: its own list, and only arches of its configs when it names some
    const configArches =
      plan.configs && new Set(cfg.buildConfigs.filter((c) => plan.configs!.includes(c.name)).map((c) => c.arch));
    const reach = cfg.platforms.filter(
      (p) => (!plan.platforms || plan.platforms.includes(p.name)) && (!configArches || configArches.has(p.arch)),
    );
    const seen = new Set<string>();
    plan.suites.forEach((name, j) => {
      const path = ['testPlans', i, 'suites', j];
      if (seen.has(name))
        issues.push({ path, message: `plan ${quoted(plan.name)}: suite ${quoted(name)} is listed twice` });
      seen.add(name);
      const suite = suites.get(name);
      if (!suite) {
        issues.push({
          path,
          message: `plan ${quoted(plan.name)}: unknown test suite ${quoted(name)} (testSuites: ${listed([...suites.keys()])})`,
        });
        return;
      }
      const missing = reach.filter((p) => !suite.arches.includes(p.arch));
      if (missing.length)
        issues.push({
          path,
          message:
            `plan ${quoted(plan.name)}: suite ${quoted(name)} does not exist for ${[...new Set(missing.map((p) => p.arch))].join(', ')} ` +
            `(platform ${missing.map((p) => p.name).join(', ')}); it exists for ${suite.arches.join(', ')}: ` +
            `limit the plan with platforms: or configs:`,
        });
    });
  });

  cfg.trees.forEach((tree, i) => {
    const seen = new Set<string>();
    tree.testPlans.forEach((name, j) => {
      const path = ['trees', i, 'testPlans', j];
      if (seen.has(name))
        issues.push({ path, message: `tree ${quoted(tree.name)}: plan ${quoted(name)} is listed twice` });
      seen.add(name);
      if (!plans.has(name))
        issues.push({
          path,
          message: `tree ${quoted(tree.name)}: unknown test plan ${quoted(name)} (testPlans: ${listed([...plans.keys()])})`,
        });
    });
    // the worst boot of the tree: every plan that can apply to one of its build configs on one platform
    const specs = testPlanSpecs(cfg, tree.testPlans);
    for (const configName of tree.buildConfigs) {
      const config = cfg.buildConfigs.find((c) => c.name === configName);
      if (!config) continue;
      for (const platform of cfg.platforms.filter((p) => p.arch === config.arch)) {
        const tests = bootTests(specs, config, platform);
        const boot = `tree ${quoted(tree.name)}: the plans for ${config.name} on ${platform.name}`;
        const problem = !tests
          ? undefined
          : tests.timeoutMs > BOOT_TESTS_MAX_MS
            ? `${boot} take ${formatMs(tests.timeoutMs)} after one boot, more than ${formatMs(BOOT_TESTS_MAX_MS)}`
            : tests.suites.length > MAX_SUITES_PER_BOOT
              ? `${boot} run ${tests.suites.length} suites in one boot, more than ${MAX_SUITES_PER_BOOT}`
              : testsKernelArg(tests).length > MAX_TESTS_KERNEL_ARG
                ? `${boot} name more suites than fit the kernel command line (${MAX_TESTS_KERNEL_ARG} characters)`
                : undefined;
        if (problem) {
          issues.push({ path: ['trees', i, 'testPlans'], message: problem });
          return;
        }
      }
    }
  });
  return issues;
}

/** testPlanIssues as zod issues, for the config schema's superRefine. */
export function checkTestPlans(cfg: CheckedConfig, ctx: z.RefinementCtx): void {
  for (const issue of testPlanIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
}
