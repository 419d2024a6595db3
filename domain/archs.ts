/**
 * What Bootfarm knows about each architecture, as data (tuxmake-style): the
 * kernel's ARCH, the cross-compiler prefix from Debian, the image make
 * target and where it lands, and how QEMU boots it.
 */
export interface ArchInfo {
  /** ARCH= value for kbuild */
  kernelArch: string;
  /** CROSS_COMPILE prefix when building on x86_64 ('' = native) */
  crossCompile: string;
  /** make targets that produce the boot image (and dtbs/modules when the tree has them) */
  imageTarget: string;
  /** path of the boot image inside the build directory */
  imagePath: string;
  /** machine: QEMU arguments selecting the board, CPU and devices */
  qemu: { binary: string; machine: string[]; console: string };
}

/**
 * isa-debug-exit lets a kernel end the VM at once (the fixture kernel does,
 * after its verdict line); a kernel that ignores it is simply stopped by the lab.
 */
const X86_QEMU_DEVICES = ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'];

export const ARCHS: Record<string, ArchInfo> = {
  x86_64: {
    kernelArch: 'x86_64',
    crossCompile: '',
    imageTarget: 'bzImage',
    imagePath: 'arch/x86/boot/bzImage',
    qemu: { binary: 'qemu-system-x86_64', machine: X86_QEMU_DEVICES, console: 'ttyS0' },
  },
  i386: {
    kernelArch: 'i386',
    crossCompile: '',
    imageTarget: 'bzImage',
    imagePath: 'arch/x86/boot/bzImage',
    qemu: { binary: 'qemu-system-i386', machine: X86_QEMU_DEVICES, console: 'ttyS0' },
  },
  arm64: {
    kernelArch: 'arm64',
    crossCompile: 'aarch64-linux-gnu-',
    imageTarget: 'Image',
    imagePath: 'arch/arm64/boot/Image',
    qemu: { binary: 'qemu-system-aarch64', machine: ['-M', 'virt', '-cpu', 'cortex-a57'], console: 'ttyAMA0' },
  },
  /** QEMU's virt machine writes the kernel a device tree itself (or patches the one given with -dtb), so no dtb is built */
  arm: {
    kernelArch: 'arm',
    crossCompile: 'arm-linux-gnueabihf-',
    imageTarget: 'zImage',
    imagePath: 'arch/arm/boot/zImage',
    qemu: { binary: 'qemu-system-arm', machine: ['-M', 'virt', '-cpu', 'cortex-a15'], console: 'ttyAMA0' },
  },
};

export function archInfo(arch: string): ArchInfo {
  const info = ARCHS[arch];
  if (!info) throw new Error(`unknown arch ${JSON.stringify(arch)}: known are ${Object.keys(ARCHS).join(', ')}`);
  return info;
}
