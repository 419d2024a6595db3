/**
 * The real-Linux tree and ramdisk machinery on small inputs (the full thing
 * runs in test/slow/realLinux.test.ts): a tarball with a kernel's shape
 * imported by fast-import, the generated story on top of it, the cpio
 * writer, the busybox checks, and the config slice.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile, link } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runOk } from '../plumbing/git/command';
import { parseConfig } from '../plumbing/loadConfig';
import { staticElfProblem } from '../realLinux/busybox';
import { cpioNewc, gzipCpio } from '../realLinux/cpio';
import { INJECTED_PANIC, STORY, injectPanic } from '../realLinux/history';
import { BOOT_MARKER, INIT_SCRIPT, ramdiskEntries } from '../realLinux/ramdisk';
import { ensureRealLinuxTree, kernelVersion } from '../realLinux/tree';
import { demoRepo } from '../realLinux/demo';
import { PLATFORM_NAMES, mergeConfigSlice, realLinuxBuildConfigs, realLinuxSlice } from '../realLinux/config';
import { testDir } from './harness/services';

const MAIN_C = `static int __ref kernel_init(void *unused)
{
\tint ret;

\tdo_sysctl_args();

\tif (ramdisk_execute_command) {
\t\tret = run_init_process(ramdisk_execute_command);
\t}
\treturn 0;
}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(testDir(), 'real-linux-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A linux-source-like tarball: the files the story edits, a script, a symlink, a hard link and a path too long for ustar. */
async function fakeSource(name: string): Promise<string> {
  const top = join(dir, name, 'linux-source-6.1');
  const files: Record<string, string> = {
    Makefile: 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n',
    '.gitignore': '/*\n', // Debian's: everything at the top is ignored
    'init/main.c': MAIN_C,
    'lib/string.c': 'int strlen(void);\n',
    'kernel/printk/printk.c': 'int printk(void);\n',
    'mm/page_alloc.c': 'int alloc(void);\n',
    'kernel/fork.c': 'int fork(void);\n',
    'scripts/ld-version.sh': '#!/bin/sh\necho 1\n',
    [`Documentation/${'very-long-directory-name/'.repeat(6)}file.rst`]: 'long\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(top, path, '..'), { recursive: true });
    await writeFile(join(top, path), content);
  }
  await chmod(join(top, 'scripts/ld-version.sh'), 0o755);
  await symlink('../lib/string.c', join(top, 'scripts/string-link.c'));
  await link(join(top, 'mm/page_alloc.c'), join(top, 'mm/hardlinked.c'));
  const tarball = join(dir, `${name}.tar.xz`);
  await runOk('tar', ['-cJf', tarball, '--format=gnu', '-C', join(dir, name), 'linux-source-6.1']);
  return tarball;
}

const git = async (repo: string, args: string[]) => (await runOk('git', ['-C', repo, ...args])).stdout.trim();

describe('the real-linux tree', () => {
  let tarball: string;
  const cacheDir = () => join(dir, 'cache');
  beforeAll(async () => {
    tarball = await fakeSource('src');
  });

  it('imports the tarball as one tagged commit with modes, symlinks and long names, and writes the story on master', async () => {
    const cacheDir = join(dir, 'cache');
    const tree = await ensureRealLinuxTree({ cacheDir, tarball });

    expect(tree.version).toBe('6.1.192');
    expect(await git(tree.repo, ['rev-parse', 'v6.1.192^{commit}'])).toBe(tree.base);
    const listing = await git(tree.repo, ['ls-tree', '-r', tree.base]);
    expect(listing).toMatch(/^100755 blob \S+\tscripts\/ld-version\.sh$/m);
    expect(listing).toMatch(/^120000 blob \S+\tscripts\/string-link\.c$/m);
    expect(listing).toMatch(/^100644 blob \S+\t\.gitignore$/m);
    expect(listing).toContain(`${'very-long-directory-name/'.repeat(6)}file.rst`);
    expect(await git(tree.repo, ['show', `${tree.base}:mm/hardlinked.c`])).toBe('int alloc(void);');
    expect(await git(tree.repo, ['cat-file', '-p', `${tree.base}:scripts/string-link.c`])).toBe('../lib/string.c');

    expect(tree.commits.map((c) => c.subject)).toEqual(STORY.map((s) => s.subject));
    expect(await git(tree.repo, ['rev-parse', 'master'])).toBe(tree.bad);
    expect(await git(tree.repo, ['describe', '--tags', tree.good])).toMatch(/^v6\.1\.192-3-g/);
    // only the culprit brings the panic; reverting it on the bad head applies cleanly
    expect(await git(tree.repo, ['show', `${tree.good}:init/main.c`])).not.toContain(INJECTED_PANIC);
    expect(await git(tree.repo, ['show', `${tree.culprit}:init/main.c`])).toContain(`panic("${INJECTED_PANIC}")`);
    expect(await git(tree.repo, ['diff', '--name-only', `${tree.culprit}`, tree.bad, '--', 'init/main.c'])).toBe('');
    const work = join(dir, 'revert');
    await runOk('git', ['clone', '--quiet', tree.repo, work]);
    await runOk('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'revert', '--no-edit', tree.culprit]);
    expect(await git(work, ['diff', tree.good, 'HEAD', '--', 'init/main.c'])).toBe('');

    // a second call finds it all in the cache; a fresh import of the same tarball gives the same commits
    const again = await ensureRealLinuxTree({ cacheDir, tarball });
    expect(again).toEqual(tree);
    const other = await ensureRealLinuxTree({ cacheDir: join(dir, 'cache2'), tarball });
    expect(other.commits.map((c) => c.sha)).toEqual(tree.commits.map((c) => c.sha));
  });

  it('gives the demo a copy whose master starts before the regression and moves to it when it is pushed', async () => {
    const tree = await ensureRealLinuxTree({ cacheDir: cacheDir(), tarball });
    const repo = join(dir, 'data', 'real-linux', 'linux.git');
    const demo = await demoRepo(repo, tree);
    expect(await demo.stage()).toBe('good');
    expect(await git(repo, ['rev-parse', 'master'])).toBe(tree.good);
    expect(await git(repo, ['cat-file', '-t', tree.bad])).toBe('commit'); // the push needs no objects
    expect(await demo.pushRegression()).toBe(tree.bad);
    expect(await demo.pushRegression()).toBe(tree.bad);
    expect(await git(repo, ['rev-parse', 'master'])).toBe(tree.bad);
    expect(await (await demoRepo(repo, tree)).stage()).toBe('bad'); // a second start finds the story told
  });

  it('refuses a kernel_init() it does not know how to break', () => {
    expect(() => injectPanic('int main(void) { return 0; }\n')).toThrow(/do_sysctl_args/);
    expect(kernelVersion('VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\n')).toBe('6.1.0-rc3');
  });
});

describe('the ramdisk', () => {
  it('is a newc cpio the cpio tool reads back, with root-owned entries, a console node and the init script', async () => {
    const busybox = Buffer.from('\x7fELF fake');
    const archive = gunzipSync(gzipCpio(ramdiskEntries(busybox)));
    expect(archive.equals(cpioNewc(ramdiskEntries(busybox)))).toBe(true);
    const file = join(dir, 'ramdisk.cpio');
    await writeFile(file, archive);
    const listing = (await runOk('sh', ['-c', 'cpio -itv --quiet < "$1"', 'sh', file])).stdout;
    expect(listing).toMatch(/^crw------- +1 root +root +5, +1 .* dev\/console$/m);
    expect(listing).toMatch(/^-rwxr-xr-x +1 root +root +\d+ .* init$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    const out = join(dir, 'unpacked');
    await mkdir(out);
    await runOk('sh', [
      '-c',
      'cd "$1" && cpio -id --quiet --no-absolute-filenames --nonmatching "dev/console" < "$2"',
      'sh',
      out,
      file,
    ]);
    expect(existsSync(join(out, 'init'))).toBe(true);
    expect(INIT_SCRIPT).toContain(`echo "${BOOT_MARKER}`);
    expect(INIT_SCRIPT).toContain('reboot -f');
    expect(gzipCpio(ramdiskEntries(busybox)).equals(gzipCpio(ramdiskEntries(busybox)))).toBe(true);
  });

  it('accepts only a static busybox of the right machine', async () => {
    const staticBusybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
    if (staticBusybox) {
      expect(await staticElfProblem(staticBusybox, 'x86_64')).toBeUndefined();
      expect(await staticElfProblem(staticBusybox, 'arm64')).toMatch(/ELF machine 62, not 183/);
    }
    expect(await staticElfProblem('/bin/ls', 'x86_64')).toBe('dynamically linked');
    expect(await staticElfProblem('/etc/hostname', 'x86_64')).toBe('not an ELF file');
  });
});

describe('the config slice', () => {
  const ramdisks = { x86_64: '/cache/x86_64.cpio.gz', arm64: '/cache/arm64.cpio.gz' };

  it('builds tinyconfig plus the committed fragments with gcc-12', () => {
    const [x86, arm] = realLinuxBuildConfigs();
    expect(x86).toMatchObject({
      name: 'x86_64-tinyconfig',
      arch: 'x86_64',
      defconfig: 'tinyconfig',
      toolchain: 'gcc-12',
    });
    expect(x86.fragments).toEqual(
      expect.arrayContaining(['CONFIG_64BIT=y', 'CONFIG_SERIAL_8250_CONSOLE=y', 'CONFIG_RD_GZIP=y']),
    );
    expect(arm.fragments).toEqual(expect.arrayContaining(['CONFIG_SERIAL_AMBA_PL011_CONSOLE=y']));
    expect(arm.fragments.join()).not.toMatch(/8250|64BIT/);
  });

  it('joins an existing QEMU lab and replaces the platforms of the same name, keeping everything else', () => {
    const demo = parseConfig(`
trees:
  - { name: demo, url: /srv/demo, branches: [master], buildConfigs: [x86_64-defconfig] }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, bootTimeout: 30s }
  - { name: qemu-i386, arch: i386 }
labs:
  - { name: qemu, adapter: qemu, platforms: [{ name: qemu-x86_64, capacity: 2 }, qemu-i386] }
`);
    const merged = mergeConfigSlice(demo, realLinuxSlice({ url: '/cache/linux.git', ramdisks, base: demo }));
    expect(merged.trees.map((t) => t.name)).toEqual(['demo', 'real-linux']);
    expect(merged.buildConfigs.map((c) => c.name)).toEqual([
      'x86_64-defconfig',
      'x86_64-tinyconfig',
      'arm64-tinyconfig',
    ]);
    expect(merged.labs).toHaveLength(1);
    expect(merged.labs[0].platforms).toEqual([
      { name: 'qemu-i386', capacity: 1 },
      { name: PLATFORM_NAMES.x86_64, capacity: 2 },
      { name: PLATFORM_NAMES.arm64, capacity: 1 },
    ]);
    const x86 = merged.platforms.find((p) => p.name === PLATFORM_NAMES.x86_64)!;
    expect(x86).toMatchObject({ ramdisk: ramdisks.x86_64, kernelArgs: 'panic=-1', successPattern: BOOT_MARKER });
    expect(merged.platforms.find((p) => p.name === PLATFORM_NAMES.arm64)).toMatchObject({
      arch: 'arm64',
      ramdisk: ramdisks.arm64,
    });
    expect(merged.trees[1]).toMatchObject({
      url: '/cache/linux.git',
      buildConfigs: ['x86_64-tinyconfig', 'arm64-tinyconfig'],
      bisect: { enabled: true },
    });
  });
});
