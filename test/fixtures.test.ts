import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildKernel, type KernelBuild, type KernelBuildOptions } from '../fixtures/build';
import {
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

/** Boots an image the way the QEMU lab does; returns the serial console and the time taken. */
async function boot(image: string, append = 'console=ttyS0'): Promise<{ console: string; ms: number }> {
  const started = Date.now();
  const args = [
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-nographic',
    '-no-reboot',
    '-m',
    '128',
    '-kernel',
    image,
    '-append',
    append,
  ];
  // isa-debug-exit makes QEMU's status odd and non-zero by design; the console is the verdict
  const r = await exec('qemu-system-x86_64', args, { timeout: 20_000, killSignal: 'SIGKILL' }).catch(
    (e: { stdout?: string; killed?: boolean }) => {
      if (e.killed) throw new Error(`QEMU did not exit: ${e.stdout}`);
      return { stdout: e.stdout ?? '' };
    },
  );
  return { console: r.stdout.replace(/\r/g, ''), ms: Date.now() - started };
}

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
      const { console, ms } = await boot(image, 'console=ttyS0 root=/dev/ram0');
      expect(console).toMatch(/\[ {4}0\.000000\] Linux version 6\.1\.0-fixture \(fixture@bootfarm\) \(gcc .*\) #1 SMP/);
      expect(console).toContain('Command line: console=ttyS0 root=/dev/ram0\n');
      expect(console).toContain('\nBOOTFARM: boot ok\n');
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
