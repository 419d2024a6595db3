import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { archInfo } from '../domain/archs';
import { parseKtap } from '../domain/ktap';
import { buildKernel, type KernelBuild, type KernelBuildOptions } from '../fixtures/build';
import {
  BREAKABLE_TEST_CASE,
  FIXTURE_TEST_CASES,
  commitChange,
  createBranch,
  createFixtureRepo,
  exportTree,
  headSha,
  linearHistory,
  mergeBranch,
  type FixtureRepo,
} from '../fixtures/generator';

const exec = promisify(execFile);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-fixtures-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
const scratch = (name: string) => join(root, `${name}-${++counter}`);

async function git(repo: FixtureRepo, ...args: string[]): Promise<string> {
  return (await exec('git', ['-C', repo.dir, ...args])).stdout.trim();
}

/** Exports `rev` to a clean directory and builds it out of tree. */
async function buildRev(repo: FixtureRepo, rev: string, opts: KernelBuildOptions = {}): Promise<KernelBuild> {
  const src = scratch('src');
  await exportTree(repo, rev, src);
  return buildKernel(src, { outDir: scratch('out'), ...opts });
}

interface BootOptions {
  /** default x86_64 */
  arch?: string;
  /** default `console=<the arch's console>` */
  append?: string;
  /** more QEMU arguments (-initrd, -dtb) */
  qemu?: string[];
}

/** Boots an image the way the QEMU lab does; returns the serial console, QEMU's exit status and the time taken. */
async function boot(image: string, opts: BootOptions = {}): Promise<{ console: string; ms: number; code: number }> {
  const { qemu } = archInfo(opts.arch ?? 'x86_64');
  const append = opts.append ?? `console=${qemu.console}`;
  const started = Date.now();
  const args = [...qemu.machine, '-nographic', '-no-reboot', '-m', '128', '-kernel', image, '-append', append];
  // isa-debug-exit makes QEMU's status odd and non-zero by design; the console is the verdict
  const r = await exec(qemu.binary, [...args, ...(opts.qemu ?? [])], { timeout: 20_000, killSignal: 'SIGKILL' }).then(
    (ok) => ({ stdout: ok.stdout, code: 0 }),
    (e: { stdout?: string; killed?: boolean; code?: number }) => {
      if (e.killed) throw new Error(`QEMU did not exit: ${e.stdout}`);
      return { stdout: e.stdout ?? '', code: e.code ?? -1 };
    },
  );
  return { console: r.stdout.replace(/\r/g, ''), ms: Date.now() - started, code: r.code };
}

/** The fixture kernel's own KTAP, from the console of a boot, parsed as the test plans will. */
function fixtureTests(console: string) {
  const { results, problems } = parseKtap(console, { prefix: 'fixture' });
  return { results, problems, status: Object.fromEntries(results.map((r) => [r.path, r.status])) };
}

/** What a kernel no commit has broken reports: every case, and both suites passing. */
const CLEAN_RESULTS = {
  ...Object.fromEntries(Object.entries(FIXTURE_TEST_CASES).map(([path, status]) => [`fixture.${path}`, status])),
  'fixture.string': 'PASS',
  'fixture.kernel': 'PASS',
};

/** The exact KTAP every unbroken fixture kernel prints after its boot marker (tests of other parts rely on it). */
const CLEAN_KTAP = [
  'BOOTFARM: boot ok',
  'KTAP version 1',
  '1..2',
  '  KTAP version 1',
  '  # Subtest: string',
  '  1..3',
  '  ok 1 strlen',
  '  ok 2 strncmp',
  '  ok 3 memcpy',
  'ok 1 string',
  '  KTAP version 1',
  '  # Subtest: kernel',
  '  1..3',
  '  ok 1 cmdline',
  '  ok 2 printk_format',
  '  ok 3 modules # SKIP CONFIG_MODULES is not set',
  'ok 2 kernel',
  '# Totals: pass:5 fail:0 skip:1',
  '',
].join('\n');

const compilerLines = (log: string, kind: 'warning' | 'error') =>
  log.split('\n').filter((l) => new RegExp(`^[\\w/.-]+\\.c:\\d+:\\d+: ${kind}: `).test(l));

describe('fixture kernel trees', () => {
  it('a fresh repository builds in-tree and out-of-tree with real make and gcc, and boots in QEMU to the marker', async () => {
    const repo = await createFixtureRepo(scratch('repo'));
    expect(await git(repo, 'describe')).toBe('v0.1');
    expect((await exec('git', ['ls-remote', repo.url, 'refs/heads/master'])).stdout).toContain(await headSha(repo));

    const started = Date.now();
    const inTree = await buildKernel(repo.dir, { defconfig: 'defconfig' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(inTree.ok).toBe(true);
    expect(inTree.log).toContain('Kernel: arch/x86/boot/bzImage is ready');
    expect(await readFile(inTree.systemMap, 'utf8')).toMatch(/^[0-9a-f]{8} T start_kernel$/m);
    expect(await readFile(inTree.config, 'utf8')).toContain('# CONFIG_MODULES is not set');
    expect(await git(repo, 'status', '--porcelain')).toBe(''); // build products are ignored

    const outOfTree = await buildRev(repo, 'master', { defconfig: 'defconfig' });
    expect(outOfTree.ok).toBe(true);
    expect(outOfTree.image.startsWith(repo.dir)).toBe(false);

    for (const image of [inTree.image, outOfTree.image]) {
      const { console, ms } = await boot(image, { append: 'console=ttyS0 root=/dev/ram0' });
      expect(console).toMatch(/\[ {4}0\.000000\] Linux version 6\.1\.0-fixture \(fixture@bootfarm\) \(gcc .*\) #1 SMP/);
      expect(console).toContain('Command line: console=ttyS0 root=/dev/ram0\n');
      expect(console).toContain('\nBOOTFARM: boot ok\n');
      expect(console.endsWith(`\n${CLEAN_KTAP}`)).toBe(true); // the marker on its line, then the suite, then the end
      expect(console).not.toContain('Kernel panic');
      expect(ms).toBeLessThan(3000);
    }
  });

  it('tinyconfig and an unknown defconfig behave like kbuild', async () => {
    const repo = await createFixtureRepo(scratch('repo'));
    const tiny = await buildRev(repo, 'master', { defconfig: 'tinyconfig' });
    expect(tiny.ok).toBe(true);
    expect((await boot(tiny.image)).console).toContain('BOOTFARM: boot ok');
    const missing = await buildRev(repo, 'master', { defconfig: 'nosuch_defconfig' });
    expect(missing.ok).toBe(false);
    expect(missing.log).toContain(`*** Can't find default configuration "arch/x86/configs/nosuch_defconfig"!`);
  });

  it('a break-boot commit panics and a later fix-boot commit boots again', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 3, {
      2: { subject: 'mm: poison the page allocator', effect: 'break-boot' },
      3: { subject: 'Revert "mm: poison the page allocator"', effect: 'fix-boot' },
    });
    expect(shas).toHaveLength(4);
    const broken = await buildRev(repo, shas[2]);
    expect(broken.ok).toBe(true);
    const { console } = await boot(broken.image);
    expect(console).toContain('Kernel panic - not syncing: fixture: mm: poison the page allocator\n');
    expect(console).not.toContain('BOOTFARM: boot ok');
    expect((await boot((await buildRev(repo, shas[3])).image)).console).toContain('BOOTFARM: boot ok');
  });

  it('a break-build commit fails to compile with a gcc error: line and fix-build repairs it', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 3, {
      1: { subject: 'net: typo', effect: 'break-build' },
      2: { subject: 'net: another typo', effect: 'break-build' },
      3: { subject: 'net: fix the typos', effect: 'fix-build' },
    });
    const broken = await buildRev(repo, shas[2]);
    expect(broken.ok).toBe(false);
    const errors = compilerLines(broken.log, 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatch(/^drivers\/fixture\/broken_net_(another_)?typo_[0-9a-f]{8}\.c:\d+:\d+: error: expected/);
    const fixed = await buildRev(repo, shas[3]);
    expect(fixed.ok).toBe(true);
    expect(compilerLines(fixed.log, 'error')).toEqual([]);
  });

  it('an onlyWith break-boot panics only in kernels configured with the symbol', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 1, {
      1: { subject: 'debug: check harder', effect: 'break-boot', onlyWith: 'CONFIG_DEBUG_EXTRA' },
    });
    const plain = await buildRev(repo, shas[1], { defconfig: 'defconfig' });
    const debug = await buildRev(repo, shas[1], { defconfig: 'debug_defconfig' });
    const fragment = await buildRev(repo, shas[1], { defconfig: 'defconfig', fragments: ['CONFIG_DEBUG_EXTRA=y'] });
    expect((await boot(plain.image)).console).toContain('BOOTFARM: boot ok');
    for (const b of [debug, fragment]) {
      const { console } = await boot(b.image);
      expect(console).toContain('fixture: extra debugging checks enabled (CONFIG_DEBUG_EXTRA)');
      expect(console).toContain('Kernel panic - not syncing: fixture: debug: check harder');
    }
    expect(await readFile(fragment.config, 'utf8')).toMatch(/^CONFIG_DEBUG_EXTRA=y$/m);
    expect(await readFile(fragment.config, 'utf8')).not.toContain('# CONFIG_DEBUG_EXTRA is not set');
  });

  it('a merge of two branches with different effects has both effects', async () => {
    const repo = await createFixtureRepo(scratch('repo'));
    const base = await headSha(repo);
    await createBranch(repo, 'feature/warn', base);
    await createBranch(repo, 'feature/debug', 'master');
    const warnSha = await commitChange(
      repo,
      { subject: 'drivers: noisy probe', effect: 'add-warning' },
      { branch: 'feature/warn' },
    );
    const debugSha = await commitChange(
      repo,
      {
        subject: 'debug: assert early',
        effect: 'break-boot',
        onlyWith: 'CONFIG_DEBUG_EXTRA',
        author: { name: 'Ann Author', email: 'ann@example.org' },
        trailers: ['Signed-off-by: Ann Author <ann@example.org>', 'Reviewed-by: Rita Reviewer <rita@example.org>'],
      },
      { branch: 'feature/debug' },
    );
    expect(await headSha(repo)).toBe(base); // master did not move
    const m1 = await mergeBranch(repo, { into: 'master', from: 'feature/warn' });
    const m2 = await mergeBranch(repo, { into: 'master', from: 'feature/debug', subject: 'Merge tag debug-for-6.2' });
    expect(await git(repo, 'rev-list', '--parents', '-n1', m2)).toBe(`${m2} ${m1} ${debugSha}`);
    expect(await git(repo, 'rev-list', '--parents', '-n1', m1)).toBe(`${m1} ${base} ${warnSha}`);
    expect(await git(repo, 'log', '-1', '--format=%an <%ae>%n%B', debugSha)).toBe(
      'Ann Author <ann@example.org>\ndebug: assert early\n\nSigned-off-by: Ann Author <ann@example.org>\nReviewed-by: Rita Reviewer <rita@example.org>',
    );
    expect(await readFile(join(repo.dir, 'Documentation/fixture/README'), 'utf8')).toContain('fixture kernel'); // worktree follows master
    expect(await git(repo, 'status', '--porcelain')).toBe('');

    const plain = await buildRev(repo, m2, { defconfig: 'defconfig' });
    expect(compilerLines(plain.log, 'warning')).toEqual([
      expect.stringMatching(
        /^drivers\/fixture\/warn_drivers_noisy_probe_[0-9a-f]{8}\.c:\d+:\d+: warning: unused variable/,
      ),
    ]);
    const plainBoot = (await boot(plain.image)).console;
    expect(plainBoot).toMatch(/WARNING: CPU: 0 PID: 1 at drivers\/fixture\/warn_drivers_noisy_probe_\w+\.c:\d+/);
    expect(plainBoot).toContain('BOOTFARM: boot ok');
    const debugBoot = (await boot((await buildRev(repo, m2, { defconfig: 'debug_defconfig' })).image)).console;
    expect(debugBoot).toContain('Kernel panic - not syncing: fixture: debug: assert early');
  });

  it('a linear history is described from the base tag and dated in order', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 3);
    expect(await git(repo, 'describe', shas[3])).toMatch(new RegExp(`^v0\\.1-3-g${shas[3].slice(0, 7)}`));
    expect(await git(repo, 'rev-list', '--reverse', 'HEAD')).toBe(shas.join('\n'));
    const dates = (await git(repo, 'log', '--format=%ct', 'HEAD')).split('\n').map(Number);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    expect(new Set(dates).size).toBe(dates.length);
    expect(Math.max(...dates)).toBeLessThan(Date.now() / 1000);
    await expect(linearHistory(scratch('repo'), 2, { 0: { subject: 'x' } })).rejects.toThrow(/outside 1\.\.2/);
  });
});

describe('the KTAP suite fixture kernels run after booting', () => {
  it('a break-test commit fails string.memcpy and its suite, the boot still passes, and fix-test repairs it', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 3, {
      1: { subject: 'lib/string: copy words, not bytes', effect: 'break-test' },
      2: { subject: 'init: spell the banner right' },
      3: { subject: 'Revert "lib/string: copy words, not bytes"', effect: 'fix-test' },
    });
    const clean = fixtureTests((await boot((await buildRev(repo, shas[0])).image)).console);
    expect(clean.problems).toEqual([]);
    expect(clean.status).toEqual(CLEAN_RESULTS);

    for (const sha of [shas[1], shas[2]]) {
      const { console } = await boot((await buildRev(repo, sha)).image);
      expect(console).toContain('\nBOOTFARM: boot ok\n'); // a test regression is not a boot regression
      const broken = fixtureTests(console);
      expect(broken.problems).toEqual([]);
      expect(broken.status).toEqual({
        ...CLEAN_RESULTS,
        [`fixture.${BREAKABLE_TEST_CASE}`]: 'FAIL',
        'fixture.string': 'FAIL',
      });
      // what a maintainer reads in the report: where the defect is and the commit that added it
      const memcpy = broken.results.find((r) => r.path === 'fixture.string.memcpy')!;
      expect(memcpy.log).toEqual([
        expect.stringMatching(
          /^ {2}# memcpy: EXPECTATION FAILED at drivers\/fixture\/testbug_lib_string_copy_words_\w+_[0-9a-f]{8}\.c:\d+$/,
        ),
        '  # memcpy: lib/string: copy words, not bytes',
        '  not ok 3 memcpy',
      ]);
      expect(console).toContain('# Totals: pass:4 fail:1 skip:1');
    }
    expect(fixtureTests((await boot((await buildRev(repo, shas[3])).image)).console).status).toEqual(CLEAN_RESULTS);
  });

  it('an onlyWith break-test fails only in kernels configured with the symbol', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 1, {
      1: { subject: 'debug: poison copies', effect: 'break-test', onlyWith: 'CONFIG_DEBUG_EXTRA' },
    });
    const plain = await buildRev(repo, shas[1], { defconfig: 'defconfig' });
    const debug = await buildRev(repo, shas[1], { defconfig: 'debug_defconfig' });
    expect(fixtureTests((await boot(plain.image)).console).status).toEqual(CLEAN_RESULTS);
    expect(fixtureTests((await boot(debug.image)).console).status['fixture.string.memcpy']).toBe('FAIL');
  });

  it('a kernel that panics in the middle of the suite: the cases so far, then an ERROR for the suite', async () => {
    const repo = await createFixtureRepo(scratch('repo'));
    const { console } = await boot((await buildRev(repo, 'master')).image, {
      append: 'console=ttyS0 fixture.test_panic',
    });
    expect(console).toContain('\nBOOTFARM: boot ok\n');
    const { status, results } = fixtureTests(console);
    expect(status).toEqual({
      'fixture.string.strlen': 'PASS',
      'fixture.string.strncmp': 'PASS',
      'fixture.string.memcpy': 'PASS',
      'fixture.string': 'PASS',
      'fixture.kernel.cmdline': 'PASS',
      'fixture.kernel': 'ERROR', // the last suite: the run's plan of two is met, by that ERROR
    });
    expect(results.find((r) => r.path === 'fixture.kernel')!.reason).toMatch(
      /^no result line \(the output ended\); plan 1\.\.3 but only 1 result; Kernel panic - not syncing: fixture\.test_panic on the kernel command line \(line \d+\)$/,
    );
  });
});

describe('the fixture kernel on 32-bit ARM', () => {
  /** QEMU's virt machine loads a zImage at 0x40010000: what the header's start address says */
  const ZIMAGE_MAGIC = 0x016f2818;

  it('builds with arm-linux-gnueabihf-gcc into a zImage and boots in qemu-system-arm -M virt to the marker and the KTAP suite', async () => {
    const repo = await createFixtureRepo(scratch('repo'));
    const started = Date.now();
    const build = await buildRev(repo, 'master', { arch: 'arm', defconfig: 'multi_v7_defconfig' });
    expect(build.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(build.image).toMatch(/\/arch\/arm\/boot\/zImage$/);
    expect(build.log).toContain('Kernel: arch/arm/boot/zImage is ready');
    expect(await readFile(build.config, 'utf8')).toContain('# Linux/arm 6.1.0 Kernel Configuration');
    const header = await readFile(build.image);
    expect(header.readUInt32LE(0x24)).toBe(ZIMAGE_MAGIC);
    expect(header.readUInt32LE(0x28)).toBe(0x40010000);
    expect(header.readUInt32LE(0x2c) - 0x40010000).toBeLessThanOrEqual(header.length); // end: the image, .bss aside
    expect(await readFile(build.systemMap, 'utf8')).toMatch(/^40010000 T _start$/m);

    const { console, ms, code } = await boot(build.image, { arch: 'arm', append: 'console=ttyAMA0 loglevel=7' });
    expect(console).toMatch(
      /^\[ {4}0\.000000\] Linux version 6\.1\.0-fixture \(fixture@bootfarm\) \(arm-linux-gnueabihf-gcc .*\) #1 SMP/m,
    );
    expect(console).toContain('Command line: console=ttyAMA0 loglevel=7\n');
    expect(console).toMatch(/CPU: ARMv7 Processor \[414fc0f\d\] revision \d \(ARMv7\)/); // cortex-a15
    expect(console).toContain('OF: fdt: Machine model: linux,dummy-virt\n');
    expect(console).toMatch(/Memory: \d+K\/131072K available/); // -m 128, read from the device tree
    expect(console).toContain('printk: console [ttyAMA0] enabled\n');
    expect(console.endsWith(`\n${CLEAN_KTAP}`)).toBe(true);
    expect(fixtureTests(console).status).toEqual(CLEAN_RESULTS);
    expect(code).toBe(0); // PSCI SYSTEM_OFF: the kernel ended the VM itself
    expect(ms).toBeLessThan(3000);

    // kbuild's `make defconfig` is the arch's default, multi_v7_defconfig; tinyconfig builds too
    const byDefault = await buildRev(repo, 'master', { arch: 'arm', defconfig: 'defconfig' });
    expect(byDefault.ok).toBe(true);
    expect(await readFile(byDefault.config, 'utf8')).toBe(await readFile(build.config, 'utf8'));
    const tiny = await buildRev(repo, 'master', { arch: 'arm', defconfig: 'tinyconfig' });
    expect(tiny.ok).toBe(true);
    expect((await boot(tiny.image, { arch: 'arm' })).console).toContain('\nBOOTFARM: boot ok\n');
  });

  it('reads the device tree it is given (-dtb), with the command line and initramfs QEMU writes into it', async () => {
    const dir = scratch('dtb');
    await exec('mkdir', ['-p', dir]);
    const dumped = join(dir, 'virt.dtb');
    // QEMU's virt machine writes out the device tree it would give a kernel, then exits
    await exec('qemu-system-arm', ['-M', `virt,dumpdtb=${dumped}`, '-cpu', 'cortex-a15', '-m', '128', '-nographic']);
    const dtb = await readFile(dumped);
    expect(dtb.readUInt32BE(0)).toBe(0xd00dfeed);
    const model = Buffer.from('linux,dummy-virt\0');
    expect(dtb.indexOf(model)).toBeGreaterThan(0);
    // the same length: the tree's layout is unchanged
    for (let at = dtb.indexOf(model); at >= 0; at = dtb.indexOf(model, at + 1))
      Buffer.from('bootfarm,fixture\0').copy(dtb, at);
    const patched = join(dir, 'patched.dtb');
    await writeFile(patched, dtb);
    const initrd = join(dir, 'initrd');
    await writeFile(initrd, Buffer.alloc(48 * 1024, 0x5a));

    const repo = await createFixtureRepo(scratch('repo'));
    const build = await buildRev(repo, 'master', { arch: 'arm' });
    const { console } = await boot(build.image, {
      arch: 'arm',
      append: 'console=ttyAMA0 root=/dev/ram0',
      qemu: ['-dtb', patched, '-initrd', initrd],
    });
    expect(console).toContain('OF: fdt: Machine model: bootfarm,fixture\n');
    expect(console).toContain('Command line: console=ttyAMA0 root=/dev/ram0\n');
    expect(console).toContain('Freeing initrd memory: 48K\n');
    expect(console).toContain('\nBOOTFARM: boot ok\n');
  });

  it('fixture commits have their effects on arm too: a debug-only panic, a broken build, a broken test', async () => {
    const { repo, shas } = await linearHistory(scratch('repo'), 3, {
      1: { subject: 'debug: check harder', effect: 'break-boot', onlyWith: 'CONFIG_DEBUG_EXTRA' },
      2: { subject: 'lib/string: copy words, not bytes', effect: 'break-test' },
      3: { subject: 'net: typo', effect: 'break-build' },
    });
    const plain = await buildRev(repo, shas[2], { arch: 'arm' });
    const plainBoot = (await boot(plain.image, { arch: 'arm' })).console;
    expect(fixtureTests(plainBoot).status['fixture.string.memcpy']).toBe('FAIL');
    const debug = await buildRev(repo, shas[2], { arch: 'arm', defconfig: 'debug_defconfig' });
    const panicked = await boot(debug.image, { arch: 'arm' });
    expect(panicked.console).toContain('Kernel panic - not syncing: fixture: debug: check harder\n');
    expect(panicked.console).toContain('Hardware name: Generic DT based system\n');
    expect(panicked.console).not.toContain('BOOTFARM: boot ok');
    const broken = await buildRev(repo, shas[3], { arch: 'arm' });
    expect(broken.ok).toBe(false);
    expect(compilerLines(broken.log, 'error')[0]).toMatch(
      /^drivers\/fixture\/broken_net_typo_[0-9a-f]{8}\.c:\d+:\d+: error:/,
    );
  });
});
