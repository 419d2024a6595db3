/**
 * Real Linux for Bootfarm: Debian's linux-source as a git tree with a
 * generated history (one commit injects a boot panic), busybox ramdisks per
 * arch, and the config slice that builds and boots it on the QEMU lab.
 */
export { ensureRealLinuxTree, MissingKernelSourceError, type RealLinuxTree } from './tree';
export { ensureRamdisk, BOOT_MARKER, INIT_SCRIPT } from './ramdisk';
export { INJECTED_PANIC, STORY, CULPRIT_AUTHOR, CULPRIT_REVIEWER } from './history';
export {
  REAL_LINUX_TREE,
  REAL_LINUX_ARCHES,
  BUILD_CONFIG_NAMES,
  PLATFORM_NAMES,
  KERNEL_ARGS,
  realLinuxBuildConfigs,
  realLinuxPlatforms,
  realLinuxSlice,
  mergeConfigSlice,
  type RealLinuxArch,
  type RealLinuxSlice,
} from './config';
export { prepareRealLinuxDemo, type RealLinuxDemo } from './demo';
export { realLinuxCacheDir, cachePaths } from './paths';
export { runRealLinuxDemo } from './demoRun';
