/**
 * The real-Linux part of a Bootfarm config: tree, build configs (tinyconfig
 * plus this folder's fragments, given as kconfig lines so nothing has to be
 * committed into the kernel tree), QEMU platforms with their ramdisks, and
 * how that slice merges into a config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildConfigSchema,
  labSchema,
  platformSchema,
  treeSchema,
  type BootfarmConfig,
  type BuildConfig,
  type LabConfig,
  type PlatformConfig,
  type TreeConfig,
} from '../domain/config';
import { BOOT_MARKER } from './ramdisk';

export const REAL_LINUX_TREE = 'real-linux';
export const REAL_LINUX_ARCHES = ['x86_64', 'arm64'] as const;
export type RealLinuxArch = (typeof REAL_LINUX_ARCHES)[number];

export const BUILD_CONFIG_NAMES: Record<RealLinuxArch, string> = {
  x86_64: 'x86_64-tinyconfig',
  arm64: 'arm64-tinyconfig',
};
export const PLATFORM_NAMES: Record<RealLinuxArch, string> = { x86_64: 'qemu-x86_64', arm64: 'qemu-arm64-virt' };

/**
 * panic=-1 reboots at once on a panic, which with QEMU's -no-reboot ends the
 * VM: a panicking kernel is a verdict in a second, not a boot timeout.
 */
export const KERNEL_ARGS = 'panic=-1';

/** The CONFIG_… lines of realLinux/fragments/<arch>.config. */
export function fragmentLines(arch: RealLinuxArch): string[] {
  return readFileSync(join(__dirname, 'fragments', `${arch}.config`), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^CONFIG_[A-Za-z0-9_]+=/.test(l));
}

export function realLinuxBuildConfigs(): BuildConfig[] {
  return REAL_LINUX_ARCHES.map((arch) =>
    buildConfigSchema.parse({
      name: BUILD_CONFIG_NAMES[arch],
      arch,
      defconfig: 'tinyconfig',
      fragments: fragmentLines(arch),
      toolchain: 'gcc-12',
    }),
  );
}

/** The QEMU platforms, each with its arch's ramdisk (a path on the lab host). */
export function realLinuxPlatforms(
  ramdisks: Record<RealLinuxArch, string>,
  opts: { bootTimeout?: string } = {},
): PlatformConfig[] {
  return REAL_LINUX_ARCHES.map((arch) =>
    platformSchema.parse({
      name: PLATFORM_NAMES[arch],
      arch,
      soc: arch === 'x86_64' ? 'qemu-pc' : 'qemu-virt',
      ramdisk: ramdisks[arch],
      kernelArgs: KERNEL_ARGS,
      successPattern: BOOT_MARKER,
      bootTimeout: opts.bootTimeout ?? '90s',
    }),
  );
}

export interface RealLinuxSlice {
  trees: TreeConfig[];
  buildConfigs: BuildConfig[];
  platforms: PlatformConfig[];
  labs: LabConfig[];
}

export interface RealLinuxSliceOptions {
  /** the tree's repository (the cached bare repository, or a demo copy of it) */
  url: string;
  ramdisks: Record<RealLinuxArch, string>;
  /** the QEMU lab that gets the platforms: an existing lab of `base` is extended, else one is made */
  lab?: string;
  base?: Pick<BootfarmConfig, 'labs'>;
  /** the tree's list */
  reportTo?: string[];
  /** how often the branch is polled (default 5m) */
  interval?: string;
  /** how long a revision's reports wait for late results (default: the schema's) */
  reportDelay?: string;
}

/** The config slice of the real-Linux tree: merge it with mergeConfigSlice(). */
export function realLinuxSlice(opts: RealLinuxSliceOptions): RealLinuxSlice {
  const buildConfigs = realLinuxBuildConfigs();
  const platforms = realLinuxPlatforms(opts.ramdisks);
  const labName = opts.lab ?? opts.base?.labs.find((l) => l.adapter === 'qemu')?.name ?? 'qemu';
  const existing = opts.base?.labs.find((l) => l.name === labName);
  // a board the lab already has keeps its capacity
  const ours = platforms.map(
    (p) => existing?.platforms.find((e) => e.name === p.name) ?? { name: p.name, capacity: 1 },
  );
  const lab: LabConfig = existing
    ? { ...existing, platforms: [...existing.platforms.filter((p) => !ours.some((o) => o.name === p.name)), ...ours] }
    : labSchema.parse({ name: labName, adapter: 'qemu', platforms: ours, bootTimeout: '90s' });
  const tree = treeSchema.parse({
    name: REAL_LINUX_TREE,
    url: opts.url,
    branches: [{ name: 'master', interval: opts.interval ?? '5m' }],
    buildConfigs: buildConfigs.map((c) => c.name),
    concurrency: 2,
    report: {
      to: opts.reportTo ?? ['linux-ci@lists.bootfarm.test'],
      ...(opts.reportDelay ? { delay: opts.reportDelay } : {}),
    },
    bisect: { enabled: true, verifyRuns: 3, parallel: 1 },
  });
  return { trees: [tree], buildConfigs, platforms, labs: [lab] };
}

function byName<T extends { name: string }>(base: T[], add: T[]): T[] {
  const names = new Set(add.map((x) => x.name));
  return [...base.filter((x) => !names.has(x.name)), ...add];
}

/**
 * `config` with the slice's entries in place of those of the same name (a
 * lab of the slice replaces the config's lab of that name: realLinuxSlice
 * already kept that lab's other platforms).
 */
export function mergeConfigSlice(config: BootfarmConfig, slice: RealLinuxSlice): BootfarmConfig {
  return {
    ...config,
    trees: byName(config.trees, slice.trees),
    buildConfigs: byName(config.buildConfigs, slice.buildConfigs),
    platforms: byName(config.platforms, slice.platforms),
    labs: byName(config.labs, slice.labs),
  };
}
