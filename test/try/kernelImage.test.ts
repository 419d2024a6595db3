/**
 * What `bootfarm try` accepts as a kernel for an arch, by the image's header
 * (domain/kernelImage.ts): the headers are built here as each format's
 * documentation lays them out (x86 boot protocol, arm64 booting.rst, the
 * zImage header, multiboot 0.6.96); test/try/tryKernel.test.ts uploads
 * real fixture kernels.
 */
import { dtbProblem, identifyKernel, kernelImageProblem, ramdiskProblem } from '../../domain/kernelImage';

function bzImage(protocol: number, xloadflags: number): Buffer {
  const b = Buffer.alloc(0x1000);
  b.writeUInt16LE(0xaa55, 0x1fe);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(protocol, 0x206);
  b.writeUInt16LE(xloadflags, 0x236);
  return b;
}
function arm64Image(): Buffer {
  const b = Buffer.alloc(0x1000);
  b.writeUInt32LE(0x644d5241, 0x38);
  return b;
}
function zImage(): Buffer {
  const b = Buffer.alloc(0x1000);
  b.writeUInt32LE(0x016f2818, 0x24);
  return b;
}
function multiboot(at: number, checksumOk = true): Buffer {
  const b = Buffer.alloc(0x2000);
  const flags = 3;
  b.writeUInt32LE(0x1badb002, at);
  b.writeUInt32LE(flags, at + 4);
  b.writeUInt32LE((0x100000000 - ((0x1badb002 + flags) % 0x100000000) + (checksumOk ? 0 : 1)) % 0x100000000, at + 8);
  return b;
}

describe('kernel images by their header', () => {
  it('tells x86_64 from i386 bzImages by the 64-bit load flag, and knows arm64 Images and ARM zImages', () => {
    expect(identifyKernel(bzImage(0x20f, 1))).toEqual({ format: 'bzImage', arch: 'x86_64' });
    expect(identifyKernel(bzImage(0x20f, 0))).toEqual({ format: 'bzImage', arch: 'i386' });
    expect(identifyKernel(bzImage(0x20b, 1))).toEqual({ format: 'bzImage', arch: 'i386' }); // no xloadflags before 2.12
    expect(identifyKernel(arm64Image())).toEqual({ format: 'Image', arch: 'arm64' });
    expect(identifyKernel(zImage())).toEqual({ format: 'zImage', arch: 'arm' });
    expect(identifyKernel(multiboot(0x1000))).toEqual({ format: 'multiboot', arch: 'x86' });
    expect(identifyKernel(multiboot(0x1000, false))).toBeUndefined();
    expect(identifyKernel(multiboot(0x1002))).toBeUndefined(); // not 4-aligned
    expect(identifyKernel(Buffer.from('#!/bin/sh\necho not a kernel\n'))).toBeUndefined();
    expect(identifyKernel(Buffer.alloc(0))).toBeUndefined();
  });

  it('says why an image cannot boot on an arch', () => {
    expect(kernelImageProblem(bzImage(0x20f, 1), 'x86_64')).toBeUndefined();
    expect(kernelImageProblem(bzImage(0x20f, 1), 'i386')).toBe(
      'an x86_64 bzImage, not a kernel for i386: expected an i386 bzImage or a multiboot kernel',
    );
    expect(kernelImageProblem(arm64Image(), 'arm')).toBe(
      'an arm64 Image, not a kernel for arm: expected a 32-bit ARM zImage',
    );
    expect(kernelImageProblem(zImage(), 'arm64')).toBe(
      'an arm zImage, not a kernel for arm64: expected an arm64 Image',
    );
    expect(kernelImageProblem(multiboot(0), 'i386')).toBeUndefined();
    expect(kernelImageProblem(multiboot(0), 'arm64')).toBe(
      'a multiboot kernel, not a kernel for arm64: expected an arm64 Image',
    );
    expect(kernelImageProblem(Buffer.from('ELF?'), 'x86_64')).toBe(
      'not a kernel image: expected an x86_64 bzImage or a multiboot kernel',
    );
  });

  it('accepts cpio archives raw or compressed as ramdisks, and FDT blobs as device trees', () => {
    expect(ramdiskProblem(Buffer.from('070701000000'))).toBeUndefined();
    expect(ramdiskProblem(Buffer.from([0x1f, 0x8b, 8, 0]))).toBeUndefined();
    expect(ramdiskProblem(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBeUndefined();
    expect(ramdiskProblem(zImage())).toMatch(/^not an initramfs/);
    expect(dtbProblem(Buffer.from([0xd0, 0x0d, 0xfe, 0xed, 0, 0]))).toBeUndefined();
    expect(dtbProblem(Buffer.from('not a dtb'))).toMatch(/no FDT magic/);
  });
});
