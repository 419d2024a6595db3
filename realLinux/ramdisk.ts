/**
 * The boot-test initramfs of an architecture: a static busybox, real
 * kselftests (kselftests.ts) and an /init that mounts proc, sysfs and
 * devtmpfs, prints the boot marker, runs the suites named by
 * `bootfarm.tests=` on the kernel command line (a test plan), and ends the
 * VM with `reboot -f` (`poweroff -f` only halts an x86_64 tinyconfig kernel,
 * which has no ACPI, and QEMU would wait for the timeout; with -no-reboot a
 * reboot ends QEMU on every arch) or, with `bootfarm.shell`, gives a shell
 * on the console for LAVA's test shell. Kept in the cache directory per arch.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../plumbing/git/fileLock';
import { staticBusybox } from './busybox';
import { gzipCpio, type CpioEntry } from './cpio';
import { ensureKselftests, KSELFTESTS_VERSION, type KselftestFile } from './kselftests';
import { cachePaths, realLinuxCacheDir } from './paths';

/** What /init prints once userspace runs: the platforms' successPattern. */
export const BOOT_MARKER = 'BOOTFARM: boot ok';

/** Bump when the ramdisk's contents change: cached ramdisks of another version are rebuilt. */
const RAMDISK_VERSION = 3;

export const INIT_SCRIPT = `#!/bin/sh
# Bootfarm's boot test: userspace runs, the kernel's filesystems mount.
/bin/busybox --install -s
# kselftest's runner calls /usr/bin/timeout --foreground, which busybox's
# timeout lacks: without it the runner runs each test as it is, and the
# plan's timeout (the lab stops the VM) bounds them.
rm -f /usr/bin/timeout
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# devtmpfs has no /dev/stdout: kselftest's runner writes the tests' output there
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
echo "${BOOT_MARKER} ($(uname -m), Linux $(uname -r))"
tests=
shell=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    bootfarm.tests=*) tests=\${arg#bootfarm.tests=} ;;
    bootfarm.shell) shell=1 ;;
  esac
done
# a test plan: its suites' KTAP on the console, after the marker
[ -n "$tests" ] && bootfarm-tests $(echo "$tests" | tr , ' ')
[ -n "$shell" ] && exec setsid cttyhack sh
reboot -f
`;

/**
 * \`bootfarm-tests [--lava] SUITE…\`: each suite is a kselftest collection,
 * run by kselftest's own runner (one KTAP document per collection). With
 * --lava (a LAVA test definition's step), each program's result is also
 * reported to LAVA's test shell.
 */
export const TESTS_SCRIPT = `#!/bin/sh
lava=
[ "$1" = --lava ] && { lava=1; shift; }
for suite in "$@"; do
  if [ -z "$lava" ]; then
    /kselftest/run_kselftest.sh -c "$suite"
    continue
  fi
  /kselftest/run_kselftest.sh -c "$suite" 2>&1 | while IFS= read -r line; do
    printf '%s\n' "$line"
    case "$line" in
      "ok "*"# SKIP"*) result=skip ;;
      "ok "*) result=pass ;;
      "not ok "*) result=fail ;;
      *) continue ;;
    esac
    name=\${line#*selftests: $suite: }
    name=$(printf '%s' "\${name%% #*}" | tr -c 'A-Za-z0-9_-' '_')
    lava-test-case "$name" --result "$result"
  done
done
`;

export function ramdiskEntries(
  busybox: Buffer,
  kselftests: { path: string; data: Buffer; executable: boolean }[] = [],
): CpioEntry[] {
  const dirs = [
    ...new Set(
      kselftests.flatMap((f) =>
        f.path
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    ),
  ];
  return [
    ...['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'root', 'kselftest'].map(
      (path): CpioEntry => ({ path, type: 'dir' }),
    ),
    // the kernel opens /dev/console for /init's output before anything is mounted
    { path: 'dev/console', type: 'char', major: 5, minor: 1 },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: busybox },
    { path: 'bin/sh', type: 'symlink', target: 'busybox' },
    { path: 'bin/bootfarm-tests', type: 'file', mode: 0o755, data: TESTS_SCRIPT },
    ...dirs.sort().map((d): CpioEntry => ({ path: `kselftest/${d}`, type: 'dir' })),
    ...kselftests.map(
      (f): CpioEntry => ({
        path: `kselftest/${f.path}`,
        type: 'file',
        mode: f.executable ? 0o755 : 0o644,
        data: f.data,
      }),
    ),
    { path: 'init', type: 'file', mode: 0o755, data: INIT_SCRIPT },
  ];
}

/** The path of the gzipped cpio ramdisk for `arch`, built on first use; its kselftests come from the tree's source. */
export async function ensureRamdisk(
  arch: string,
  tree: { repo: string; base: string },
  opts: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const paths = cachePaths(opts.cacheDir ?? realLinuxCacheDir());
  const target = join(paths.ramdisks, `${arch}-v${RAMDISK_VERSION}-k${KSELFTESTS_VERSION}.cpio.gz`);
  if (existsSync(target)) return target;
  await mkdir(paths.ramdisks, { recursive: true });
  return withFileLock(join(paths.ramdisks, `${arch}.lock`), async () => {
    if (existsSync(target)) return target;
    const busybox = await staticBusybox(arch, paths.debs, opts.log);
    const files: KselftestFile[] = await ensureKselftests(arch, tree, opts);
    const kselftests = await Promise.all(
      files.map(async (f) => ({ path: f.path, data: await readFile(f.source), executable: f.executable })),
    );
    opts.log?.(`packing the ${arch} ramdisk ${target}`);
    await writeFile(`${target}.tmp`, gzipCpio(ramdiskEntries(await readFile(busybox), kselftests)));
    await rename(`${target}.tmp`, target);
    return target;
  });
}
