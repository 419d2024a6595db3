/**
 * The boot-test initramfs of an architecture: a static busybox and an /init
 * that mounts proc, sysfs and devtmpfs, prints the boot marker and ends the
 * VM with `reboot -f` (`poweroff -f` only halts an x86_64 tinyconfig kernel,
 * which has no ACPI, and QEMU would wait for the timeout; with -no-reboot a
 * reboot ends QEMU on every arch). Kept in the cache directory per arch.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../plumbing/git/fileLock';
import { staticBusybox } from './busybox';
import { gzipCpio, type CpioEntry } from './cpio';
import { cachePaths, realLinuxCacheDir } from './paths';

/** What /init prints once userspace runs: the platforms' successPattern. */
export const BOOT_MARKER = 'BOOTFARM: boot ok';

/** Bump when the ramdisk's contents change: cached ramdisks of another version are rebuilt. */
const RAMDISK_VERSION = 1;

export const INIT_SCRIPT = `#!/bin/sh
# Bootfarm's boot test: userspace runs, the kernel's filesystems mount.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "${BOOT_MARKER} ($(uname -m), Linux $(uname -r))"
reboot -f
`;

export function ramdiskEntries(busybox: Buffer): CpioEntry[] {
  return [
    ...['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'root'].map(
      (path): CpioEntry => ({ path, type: 'dir' }),
    ),
    // the kernel opens /dev/console for /init's output before anything is mounted
    { path: 'dev/console', type: 'char', major: 5, minor: 1 },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: busybox },
    { path: 'bin/sh', type: 'symlink', target: 'busybox' },
    { path: 'init', type: 'file', mode: 0o755, data: INIT_SCRIPT },
  ];
}

/** The path of the gzipped cpio ramdisk for `arch`, built on first use. */
export async function ensureRamdisk(
  arch: string,
  opts: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const paths = cachePaths(opts.cacheDir ?? realLinuxCacheDir());
  const target = join(paths.ramdisks, `${arch}-v${RAMDISK_VERSION}.cpio.gz`);
  if (existsSync(target)) return target;
  await mkdir(paths.ramdisks, { recursive: true });
  return withFileLock(join(paths.ramdisks, `${arch}.lock`), async () => {
    if (existsSync(target)) return target;
    const busybox = await staticBusybox(arch, paths.debs, opts.log);
    opts.log?.(`packing the ${arch} ramdisk ${target}`);
    await writeFile(`${target}.tmp`, gzipCpio(ramdiskEntries(await readFile(busybox))));
    await rename(`${target}.tmp`, target);
    return target;
  });
}
