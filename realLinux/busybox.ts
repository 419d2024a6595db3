/**
 * A statically linked busybox for an architecture, from Debian's
 * busybox-static package of that architecture (`apt-get download
 * busybox-static:<arch>`, unpacked with dpkg-deb): the foreign architecture
 * is added to dpkg first when it is missing (root only). Checked to be a
 * static ELF executable of the right machine before it goes into a ramdisk.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runOk } from '../plumbing/git/command';

/** Bootfarm arch → Debian architecture and ELF e_machine. */
const ARCHES: Record<string, { debian: string; elfMachine: number; elfClass: 1 | 2 }> = {
  x86_64: { debian: 'amd64', elfMachine: 62, elfClass: 2 },
  i386: { debian: 'i386', elfMachine: 3, elfClass: 1 },
  arm64: { debian: 'arm64', elfMachine: 183, elfClass: 2 },
};

export function debianArch(arch: string): string {
  const a = ARCHES[arch];
  if (!a)
    throw new Error(
      `no Debian architecture known for ${JSON.stringify(arch)} (known: ${Object.keys(ARCHES).join(', ')})`,
    );
  return a.debian;
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
const LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=900'];

/** Why a file is not a static executable for `arch`, or undefined when it is one. */
export async function staticElfProblem(path: string, arch: string): Promise<string | undefined> {
  const want = ARCHES[arch];
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file';
    if (head[4] !== want.elfClass || head[5] !== 1)
      return `not a little-endian ${want.elfClass === 2 ? '64' : '32'}-bit ELF`;
    const machine = head.readUInt16LE(18);
    if (machine !== want.elfMachine) return `ELF machine ${machine}, not ${want.elfMachine} (${arch})`;
    const wide = want.elfClass === 2;
    const phoff = wide ? Number(head.readBigUInt64LE(32)) : head.readUInt32LE(28);
    const phentsize = head.readUInt16LE(wide ? 54 : 42);
    const phnum = head.readUInt16LE(wide ? 56 : 44);
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === PT_INTERP) return 'dynamically linked';
    return undefined;
  } finally {
    await fh.close();
  }
}

async function ensureForeignArch(debian: string, log: (line: string) => void): Promise<void> {
  const native = (await runOk('dpkg', ['--print-architecture'])).stdout.trim();
  if (debian === native) return;
  const foreign = (await runOk('dpkg', ['--print-foreign-architectures'])).stdout.split('\n').map((s) => s.trim());
  if (foreign.includes(debian)) return;
  if (process.getuid?.() !== 0)
    throw new Error(
      `dpkg does not know the ${debian} architecture: run \`sudo dpkg --add-architecture ${debian} && sudo apt-get update\` once`,
    );
  log(`adding the ${debian} architecture to dpkg and updating apt's lists`);
  await runOk('dpkg', ['--add-architecture', debian]);
  await runOk('apt-get', ['update', '-qq', ...LOCK_WAIT], { env: APT_ENV });
}

async function download(pkg: string, dir: string, log: (line: string) => void): Promise<string> {
  const attempt = () => run('apt-get', ['download', '-qq', ...LOCK_WAIT, pkg], { cwd: dir, env: APT_ENV });
  let r = await attempt();
  if (r.code !== 0 && /unable to locate|has no installation candidate/i.test(r.stderr) && process.getuid?.() === 0) {
    log(`apt does not know ${pkg} yet: updating its lists`);
    await runOk('apt-get', ['update', '-qq', ...LOCK_WAIT], { env: APT_ENV });
    r = await attempt();
  }
  if (r.code !== 0)
    throw new Error(`apt-get download ${pkg} failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const deb = (await readdir(dir)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  return join(dir, deb);
}

/** The host's own busybox-static, when the package is installed: the fallback without a package mirror. */
async function installedBusybox(arch: string): Promise<string | undefined> {
  const native = (await runOk('dpkg', ['--print-architecture'])).stdout.trim();
  if (debianArch(arch) !== native) return undefined;
  const r = await run('dpkg-query', ['-L', 'busybox-static']);
  if (r.code !== 0) return undefined;
  const path = r.stdout
    .split('\n')
    .find((l) => /\/bin\/busybox$/.test(l.trim()))
    ?.trim();
  return path && existsSync(path) && !(await staticElfProblem(path, arch)) ? path : undefined;
}

/**
 * The path of a static busybox for `arch`, kept under `debsDir/<debian arch>/`
 * once fetched.
 */
export async function staticBusybox(
  arch: string,
  debsDir: string,
  log: (line: string) => void = () => undefined,
): Promise<string> {
  const debian = debianArch(arch);
  const dir = join(debsDir, debian);
  const binary = join(dir, 'busybox');
  if (existsSync(binary) && !(await staticElfProblem(binary, arch))) return binary;
  await mkdir(debsDir, { recursive: true });
  const work = await mkdtemp(join(debsDir, `.${debian}-`));
  try {
    let found: string;
    try {
      await ensureForeignArch(debian, log);
      log(`downloading busybox-static:${debian}`);
      const deb = await download(`busybox-static:${debian}`, work, log);
      await runOk('dpkg-deb', ['-x', deb, join(work, 'root')]);
      found = ['bin/busybox', 'usr/bin/busybox'].map((p) => join(work, 'root', p)).find((p) => existsSync(p)) ?? '';
      if (!found) throw new Error(`busybox-static:${debian} has no bin/busybox`);
    } catch (e) {
      const local = await installedBusybox(arch);
      if (!local) throw e;
      log(`using the installed ${local} (${(e as Error).message})`);
      found = local;
    }
    const problem = await staticElfProblem(found, arch);
    if (problem) throw new Error(`${found} is not a static ${arch} busybox: ${problem}`);
    await mkdir(dir, { recursive: true });
    await runOk('cp', ['--', found, `${binary}.tmp`]);
    await rename(`${binary}.tmp`, binary);
    return binary;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
