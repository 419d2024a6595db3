/**
 * The one bootfarm.yaml of the tests: one tree, the fixture kernel's x86_64
 * build config, one x86_64 platform in one QEMU lab. Each test changes only
 * what it is about (names, the tree's url and settings, the platform's and
 * lab's options, what goes above `trees:`), so a change to the config schema
 * is made here once, not in every test file.
 */
export interface TestConfigOptions {
  /** lines above `trees:` (dataDir, temporal, email, builder, …) */
  head?: string;
  tree?: string;
  url?: string;
  /** the tree's branches, YAML flow style (default `[master]`) */
  branches?: string;
  /** the tree's bisect settings, YAML flow style */
  bisect?: string;
  /** more keys of the tree, YAML flow style without braces */
  treeOptions?: string;
  platform?: string;
  /** more keys of the platform, YAML flow style without braces */
  platformOptions?: string;
  lab?: string;
  /** the lab's platform entry (default: the platform's name) */
  labPlatform?: string;
  /** more keys of the lab, YAML flow style without braces */
  labOptions?: string;
  dataDir?: string;
}

const more = (keys?: string) => (keys ? `, ${keys}` : '');

export function testConfigYaml(o: TestConfigOptions = {}): string {
  const platform = o.platform ?? 'qemu-x86_64';
  return [
    ...(o.dataDir ? [`dataDir: ${o.dataDir}`] : []),
    ...(o.head ? [o.head.trimEnd()] : []),
    'trees:',
    `  - { name: ${o.tree ?? 'demo'}, url: ${o.url ?? '/srv/git/demo.git'}, branches: ${o.branches ?? '[master]'}, buildConfigs: [x86_64-defconfig]${o.bisect ? `, bisect: ${o.bisect}` : ''}${more(o.treeOptions)} }`,
    'buildConfigs:',
    '  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }',
    'platforms:',
    `  - { name: ${platform}, arch: x86_64${more(o.platformOptions)} }`,
    'labs:',
    `  - { name: ${o.lab ?? 'local'}, adapter: qemu, platforms: [${o.labPlatform ?? platform}]${more(o.labOptions)} }`,
    '',
  ].join('\n');
}
