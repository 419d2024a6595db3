/**
 * The box a kernel tree's Makefiles run in. A commit's Makefile is code
 * Bootfarm did not write; it runs with:
 *
 * - an environment built from an allow-list (no DATABASE_URL, S3 keys or
 *   tokens of the builder process);
 * - an unprivileged user (setpriv; when the builder runs as root);
 * - a file system of its own (bubblewrap): the system's /usr and the few
 *   /etc files toolchains read, read-only; the worktree and the tree's
 *   mirror, read-only; writable only the build directory (O=), the install
 *   staging directory, a scratch directory and ccache; a private /tmp and
 *   /dev; nothing else of the host (no /root, /home, /work, no data dir);
 * - no network (a network namespace with only a loopback), no view of the
 *   builder's processes (a PID namespace), no new privileges, no
 *   capabilities;
 * - a parent-death signal: a builder that dies takes the build with it.
 *
 * docs/builds.md says the same for operators.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { chown, lstat, mkdir, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { findOnPath } from '../../plumbing/tools';

/** Where a build may write, and what it may read besides the system. */
export interface BoxPaths {
  /** read-only: the worktree, the mirror its .git points at */
  readOnly: string[];
  /** writable: the build directory, staging, scratch, ccache */
  writable: string[];
}

export interface BoxUser {
  uid: number;
  gid: number;
}

/** The uid and gid builds run as when the builder is root (no passwd entry needed). */
export const DEFAULT_BOX_USER: BoxUser = { uid: 64200, gid: 64200 };

/** Who builds (and owns ccache): the configured or default box user when the builder is root; else the builder itself (undefined). */
export function boxUserOf(configured: BoxUser | undefined): BoxUser | undefined {
  return process.getuid?.() === 0 ? (configured ?? DEFAULT_BOX_USER) : undefined;
}

// What a toolchain reads outside /usr: the dynamic linker's cache, alternatives (cc → gcc), users and time zone.
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/localtime',
  // openssl's default config (kbuild makes module signing keys); /etc/ssl/private stays unreadable to the build user
  '/etc/ssl',
];
// merged-/usr systems have these as symlinks into /usr, others as directories
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt'];

/** Variables a build gets from the builder's environment (and from the builder config's env); nothing else. */
const ALLOWED_ENV = /^(PATH|CCACHE_[A-Z0-9_]+|SOURCE_DATE_EPOCH)$/;

const PRIVATE_TMP_BYTES = 256 * 1024 * 1024;

/** The allow-listed part of `env`. */
export function allowedEnv(...envs: (Record<string, string | undefined> | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const env of envs)
    for (const [k, v] of Object.entries(env ?? {})) if (v !== undefined && ALLOWED_ENV.test(k)) out[k] = v;
  return out;
}

function systemBinds(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  const etc = ETC_FILES.filter((f) => existsSync(f));
  return [...args, ...parents(etc), ...etc.flatMap((f) => ['--ro-bind', f, f])];
}

/** bwrap makes missing parents of a mount point 0700 root: make them 0755 first, so the build user can pass. */
function parents(paths: string[]): string[] {
  const made = new Set<string>(['/', '/tmp']);
  const args: string[] = [];
  for (const p of paths) {
    const chain: string[] = [];
    for (let d = dirname(p); !made.has(d); d = dirname(d)) chain.unshift(d);
    for (const d of chain) {
      args.push('--dir', d);
      made.add(d);
    }
  }
  return args;
}

/** setpriv (util-linux) and bwrap (bubblewrap) from the builder's PATH; an Error naming what is missing. */
export function boxTools(): { setpriv: string; bwrap: string } {
  const setpriv = findOnPath('setpriv');
  const bwrap = findOnPath('bwrap');
  if (!setpriv || !bwrap)
    throw new Error(
      `${bwrap ? 'setpriv (util-linux)' : 'bwrap (Debian package bubblewrap)'} is not installed on this builder: builds run only in their box (docs/builds.md)`,
    );
  return { setpriv, bwrap };
}

/**
 * The argv that runs `cmd args` in the box, from `cwd` (which must be one of
 * the box's paths). `user`: drop to it (the builder is root); undefined: the
 * builder is already unprivileged and bwrap makes its own user namespace.
 */
export function boxedArgv(
  paths: BoxPaths,
  user: BoxUser | undefined,
  cwd: string,
  cmd: string,
  args: string[],
): { cmd: string; args: string[] } {
  const tools = boxTools();
  const readOnly = paths.readOnly.map((p) => resolve(p));
  const writable = paths.writable.map((p) => resolve(p));
  const bwrap = [
    tools.bwrap,
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(user ? [] : ['--unshare-user']),
    '--die-with-parent',
    '--new-session',
    '--hostname',
    'bootfarm-build',
    ...systemBinds(),
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--perms',
    '1777',
    '--size',
    String(PRIVATE_TMP_BYTES),
    '--tmpfs',
    '/tmp',
    ...parents([...readOnly, ...writable]),
    ...readOnly.flatMap((p) => ['--ro-bind', p, p]),
    ...writable.flatMap((p) => ['--bind', p, p]),
    '--chdir',
    resolve(cwd),
    '--',
  ];
  const drop = user
    ? [
        'setpriv',
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--',
      ]
    : [];
  // setpriv first: the parent-death signal on bwrap itself (bwrap's --die-with-parent covers its child)
  return { cmd: tools.setpriv, args: ['--pdeathsig', 'SIGKILL', '--', ...bwrap, ...drop, cmd, ...args] };
}

/** Make `dir` (created if missing) and everything in it the build user's, unless it already is. */
export async function ownForBox(dir: string, user: BoxUser | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!user) return;
  const st = await stat(dir);
  if (st.uid === user.uid && st.gid === user.gid) return;
  await chownTree(dir, user);
}

async function chownTree(path: string, user: BoxUser): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return;
  await chown(path, user.uid, user.gid);
  if (!st.isDirectory()) return;
  for (const name of await readdir(path)) await chownTree(join(path, name), user);
}

/**
 * Replace a file in a directory the build writes, as the builder: through a
 * new file and a rename, so a symlink the build planted at `path` is
 * replaced, never followed; the file goes to the build user.
 */
export async function replaceInBox(path: string, data: string, user: BoxUser | undefined): Promise<void> {
  const tmp = `${path}.bootfarm-${process.pid}`;
  await rm(tmp, { force: true });
  await writeFile(tmp, data, { flag: 'wx' });
  if (user) await chown(tmp, user.uid, user.gid);
  await rename(tmp, path);
}

/**
 * A product of the build, safe for the builder to read: a regular file (not
 * a symlink the tree planted to make the builder upload /etc/shadow) whose
 * real path is inside `root`.
 */
export async function boxProduct(path: string, root: string): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) return false;
    const real = await realpath(path);
    const base = await realpath(root);
    return real.startsWith(base + sep);
  } catch {
    return false;
  }
}
