/**
 * The fleet parts the queue scenarios (busyBoard, fairShare) share: four
 * fixture build configs that each build a different kernel, and a tree that
 * builds all four at once with no confirmation, report or bisection of its
 * own, so what the scenario watches is how its boots reach the boards.
 */
export const FOUR_CONFIGS = ['x86_64-defconfig', 'x86_64-debug', 'x86_64-tiny', 'x86_64-extra'];

export const FOUR_BUILD_CONFIGS_YAML = `buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
  - { name: x86_64-debug, arch: x86_64, defconfig: debug_defconfig }
  - { name: x86_64-tiny, arch: x86_64, defconfig: tinyconfig }
  - { name: x86_64-extra, arch: x86_64, defconfig: defconfig, fragments: ["CONFIG_DEBUG_EXTRA=y"] }`;

/** One entry of `trees:` building the four configs at once. */
export const routineTreeYaml = (name: string, url: string) => `
  - name: ${name}
    url: ${url}
    branches: [master]
    buildConfigs: [${FOUR_CONFIGS.join(', ')}]
    concurrency: 4
    confirmations: 0
    report: { delay: 1h }
    bisect: { enabled: false }`;
