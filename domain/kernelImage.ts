/**
 * What a boot file is, from its first bytes: the kernel image formats the
 * labs boot (an x86 bzImage's setup header, a multiboot kernel such as the
 * fixture's, an arm64 Image, a 32-bit ARM zImage), an initramfs (a cpio
 * archive, compressed or not) and a flattened device tree. `bootfarm try`
 * refuses an upload that is not the right kind for the platform before
 * anything is booted.
 */

/** Bytes of a file that identifyKernel needs (the multiboot header may sit anywhere in the first 8 KiB). */
export const KERNEL_HEAD_BYTES = 8192;

export type KernelKind =
  | { format: 'bzImage'; arch: 'x86_64' | 'i386' }
  | { format: 'multiboot'; arch: 'x86' }
  | { format: 'Image'; arch: 'arm64' }
  | { format: 'zImage'; arch: 'arm' };

const MULTIBOOT_MAGIC = 0x1badb002;
const ARM64_MAGIC = 0x644d5241; // "ARM\x64" at 0x38
const ZIMAGE_MAGIC = 0x016f2818; // at 0x24
const XLF_KERNEL_64 = 1;

/** The kernel format of an image, from its first KERNEL_HEAD_BYTES; undefined when it is none of them. */
export function identifyKernel(head: Buffer): KernelKind | undefined {
  const u32 = (offset: number) => (head.length >= offset + 4 ? head.readUInt32LE(offset) : undefined);
  // x86 boot protocol: 0xAA55 at 0x1fe, "HdrS" at 0x202; xloadflags (0x236, protocol 2.12+) says 64-bit
  if (head.length >= 0x238 && head.readUInt16LE(0x1fe) === 0xaa55 && head.toString('latin1', 0x202, 0x206) === 'HdrS') {
    const protocol = head.readUInt16LE(0x206);
    const x64 = protocol >= 0x20c && (head.readUInt16LE(0x236) & XLF_KERNEL_64) !== 0;
    return { format: 'bzImage', arch: x64 ? 'x86_64' : 'i386' };
  }
  if (u32(0x38) === ARM64_MAGIC) return { format: 'Image', arch: 'arm64' };
  if (u32(0x24) === ZIMAGE_MAGIC) return { format: 'zImage', arch: 'arm' };
  // multiboot: magic, flags and checksum summing to 0, 4-aligned in the first 8 KiB
  for (let off = 0; off + 12 <= Math.min(head.length, KERNEL_HEAD_BYTES); off += 4) {
    if (head.readUInt32LE(off) !== MULTIBOOT_MAGIC) continue;
    if (((MULTIBOOT_MAGIC + head.readUInt32LE(off + 4) + head.readUInt32LE(off + 8)) & 0xffffffff) >>> 0 === 0)
      return { format: 'multiboot', arch: 'x86' };
  }
  return undefined;
}

const EXPECTED: Record<string, string> = {
  x86_64: 'an x86_64 bzImage or a multiboot kernel',
  i386: 'an i386 bzImage or a multiboot kernel',
  arm64: 'an arm64 Image',
  arm: 'a 32-bit ARM zImage',
};

const describe = (k: KernelKind) => (k.format === 'multiboot' ? 'a multiboot kernel' : `an ${k.arch} ${k.format}`);

/** Why the image cannot boot on an `arch` platform; undefined when it can. */
export function kernelImageProblem(head: Buffer, arch: string): string | undefined {
  const kind = identifyKernel(head);
  const expected = EXPECTED[arch] ?? `a kernel for ${arch}`;
  if (!kind) return `not a kernel image: expected ${expected}`;
  const fits = kind.arch === arch || (kind.format === 'multiboot' && (arch === 'x86_64' || arch === 'i386'));
  return fits ? undefined : `${describe(kind)}, not a kernel for ${arch}: expected ${expected}`;
}

/** Why the file is not an initramfs (a cpio archive, raw or compressed as the kernel unpacks it); undefined when it is one. */
export function ramdiskProblem(head: Buffer): string | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const cpio = head.toString('latin1', 0, 6);
  const known =
    cpio === '070701' ||
    cpio === '070702' ||
    starts(0x1f, 0x8b) || // gzip
    starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || // xz
    starts(0x28, 0xb5, 0x2f, 0xfd) || // zstd
    starts(0x02, 0x21, 0x4c, 0x18) || // lz4 legacy
    starts(0x42, 0x5a, 0x68) || // bzip2
    starts(0x5d, 0x00, 0x00); // lzma
  return known
    ? undefined
    : 'not an initramfs: expected a cpio archive (newc), raw or compressed (gzip, xz, zstd, lz4, bzip2, lzma)';
}

/** Why the file is not a flattened device tree; undefined when it is one. */
export function dtbProblem(head: Buffer): string | undefined {
  return head.length >= 4 && head.readUInt32BE(0) === 0xd00dfeed
    ? undefined
    : 'not a device tree blob: no FDT magic (0xd00dfeed)';
}
