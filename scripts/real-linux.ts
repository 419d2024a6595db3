/**
 * Makes the real-Linux tree and ramdisks (or finds them in the cache) and
 * prints what they are, with the bootfarm.yaml entries that build and boot
 * them.
 *
 *   npx tsx scripts/real-linux.ts [--cache-dir DIR] [--tarball FILE] [--yaml]
 *
 * The tree is Debian's linux-source tarball imported as one commit (tag
 * v<version>) with a generated history on master; see realLinux/history.ts.
 * Default cache: ~/.cache/bootfarm/real-linux (or $BOOTFARM_CACHE_DIR/real-linux).
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import {
  REAL_LINUX_ARCHES,
  ensureRamdisk,
  ensureRealLinuxTree,
  realLinuxCacheDir,
  realLinuxSlice,
  type RealLinuxArch,
} from '../realLinux';
import { join } from 'node:path';

async function main() {
  const { values } = parseArgs({
    options: {
      'cache-dir': { type: 'string' },
      tarball: { type: 'string' },
      yaml: { type: 'boolean', default: false },
    },
  });
  const cacheDir = values['cache-dir'] ? join(values['cache-dir'], 'real-linux') : realLinuxCacheDir();
  const log = (line: string) => process.stderr.write(`real-linux: ${line}\n`);
  const started = Date.now();
  const tree = await ensureRealLinuxTree({ cacheDir, tarball: values.tarball, log });
  const ramdisks = {} as Record<RealLinuxArch, string>;
  for (const arch of REAL_LINUX_ARCHES) ramdisks[arch] = await ensureRamdisk(arch, { cacheDir, log });
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (values.yaml) {
    const slice = realLinuxSlice({ url: tree.repo, ramdisks });
    // durations back to seconds, the way bootfarm.yaml writes them
    const asYaml = {
      trees: slice.trees.map((t) => ({
        ...t,
        branches: t.branches.map((b) => ({ name: b.name, interval: `${b.interval / 1000}s` })),
        report: { to: t.report.to },
      })),
      buildConfigs: slice.buildConfigs,
      platforms: slice.platforms.map((p) => ({
        ...p,
        ...(p.bootTimeout ? { bootTimeout: `${p.bootTimeout / 1000}s` } : {}),
      })),
      labs: slice.labs.map((l) => ({
        name: l.name,
        adapter: l.adapter,
        platforms: l.platforms,
        bootTimeout: `${l.bootTimeout / 1000}s`,
      })),
    };
    process.stdout.write(stringify(asYaml));
    return;
  }
  const lines = [
    `tree        ${tree.repo}`,
    `version     ${tree.version} (base ${tree.base.slice(0, 12)}, tag v${tree.version})`,
    ...tree.commits.map((c) => `${c.role.padEnd(11)} ${c.sha.slice(0, 12)} ${c.subject}`),
    ...REAL_LINUX_ARCHES.map((a) => `ramdisk     ${a}: ${ramdisks[a]}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`real-linux: ${(e as Error).message}\n`);
  process.exit(1);
});
