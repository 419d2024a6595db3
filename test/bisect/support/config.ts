/**
 * The bootfarm.yaml of the bisection tests: one tree, one x86_64 build
 * config, one QEMU platform in one lab; each test changes only what it is
 * about (the tree's url and bisect settings, the platform's and lab's
 * options, the data directory).
 */
export interface TestConfigOptions {
  tree?: string;
  url?: string;
  /** the tree's bisect settings, YAML flow style */
  bisect?: string;
  /** more keys of the platform, YAML flow style without braces */
  platformOptions?: string;
  /** the lab's platform entry (default: the platform's name) */
  labPlatform?: string;
  /** more keys of the lab */
  labOptions?: string;
  dataDir?: string;
}

const more = (keys?: string) => (keys ? `, ${keys}` : '');

export function bisectConfigYaml(o: TestConfigOptions = {}): string {
  return [
    ...(o.dataDir ? [`dataDir: ${o.dataDir}`] : []),
    'trees:',
    `  - { name: ${o.tree ?? 'demo'}, url: ${o.url ?? '/srv/git/demo.git'}, branches: [master], buildConfigs: [x86_64-defconfig], bisect: ${o.bisect ?? '{}'} }`,
    'buildConfigs:',
    '  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }',
    'platforms:',
    `  - { name: qemu-x86_64, arch: x86_64${more(o.platformOptions)} }`,
    'labs:',
    `  - { name: local, adapter: qemu, platforms: [${o.labPlatform ?? 'qemu-x86_64'}]${more(o.labOptions)} }`,
    '',
  ].join('\n');
}
