/**
 * The real-linux tree: Debian's linux-source tarball imported as one base
 * commit (tagged v<version>), with the generated story (history.ts) on
 * `master`. Made once per machine and kept in the cache directory; a later
 * call with the same tarball and story returns at once. Several processes
 * may ask at the same time (a test run and the bench): one makes it, the
 * others wait for it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { runOk } from '../plumbing/git/command';
import { withFileLock } from '../plumbing/git/fileLock';
import { HISTORY_VERSION, MAINTAINER, writeStory, type StoryCommitInfo } from './history';
import { cachePaths, DEFAULT_TARBALL, realLinuxCacheDir } from './paths';
import { gitIdentityEnv, importTarball } from './tarImport';

export interface RealLinuxTree {
  /** the bare repository: a tree url for bootfarm.yaml */
  repo: string;
  /** the kernel version of the tarball, e.g. 6.1.192 */
  version: string;
  /** the imported tarball as a commit, tagged `v<version>` */
  base: string;
  /** the story commits on master, oldest first */
  commits: StoryCommitInfo[];
  /** the last commit before the regression (every kernel boots) */
  good: string;
  /** the commit that makes x86_64 kernels panic */
  culprit: string;
  /** master: the regression and the commits after it */
  bad: string;
}

interface Manifest {
  tarball: { path: string; size: number; mtimeMs: number };
  historyVersion: number;
  version: string;
  base: string;
  baseEpoch: number;
  commits: StoryCommitInfo[];
}

const BASE_REF = 'refs/heads/linux-source';
const BRANCH = 'refs/heads/master';
const DEBIAN_KERNEL = { name: 'Debian Kernel Team', email: 'debian-kernel@lists.debian.org' };

export class MissingKernelSourceError extends Error {
  constructor(tarball: string) {
    super(
      `${tarball} not found: install Debian's kernel source (apt-get install linux-source), or run \`npm run setup -- --real-linux\``,
    );
    this.name = 'MissingKernelSourceError';
  }
}

/** VERSION.PATCHLEVEL.SUBLEVEL(EXTRAVERSION) from the top Makefile. */
export function kernelVersion(makefile: string): string {
  const get = (k: string) => new RegExp(`^${k}\\s*=[ \\t]*(\\S*)`, 'm').exec(makefile)?.[1] ?? '';
  const version = `${get('VERSION')}.${get('PATCHLEVEL')}.${get('SUBLEVEL')}${get('EXTRAVERSION')}`;
  if (!/^\d+\.\d+\.\d+/.test(version)) throw new Error(`the tarball's Makefile gives no kernel version (${version})`);
  return version;
}

function fromManifest(repo: string, m: Manifest): RealLinuxTree {
  const by = (role: StoryCommitInfo['role']) => m.commits.find((c) => c.role === role)!.sha;
  return {
    repo,
    version: m.version,
    base: m.base,
    commits: m.commits,
    good: by('good-head'),
    culprit: by('culprit'),
    bad: by('bad-head'),
  };
}

async function readManifest(path: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

async function hasCommit(repo: string, sha: string): Promise<boolean> {
  if (!existsSync(repo)) return false;
  const r = await runOk('git', ['-C', repo, 'cat-file', '-e', `${sha}^{commit}`]).catch(() => undefined);
  return r !== undefined;
}

async function git(repo: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return (
    await runOk('git', ['-C', repo, ...args], { env: env ?? gitIdentityEnv(MAINTAINER, MAINTAINER) })
  ).stdout.trim();
}

/** A fresh bare repository with the tarball imported on BASE_REF and tagged. */
async function importBase(dir: string, tarball: string, log: (line: string) => void) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await runOk('git', ['init', '--bare', '--quiet', '--initial-branch=master', dir]);
  // the repository is one pack and stays that way: no gc when it is cloned or fetched from
  await git(dir, ['config', 'gc.auto', '0']);
  let version = '';
  const started = Date.now();
  log(`importing ${tarball} into ${dir} (git fast-import)…`);
  const imported = await importTarball({
    repo: dir,
    tarball,
    ref: BASE_REF,
    author: DEBIAN_KERNEL,
    message: ({ makefile }) => {
      version = kernelVersion(makefile);
      return `Linux ${version}\n\nDebian's ${basename(tarball)}, imported by Bootfarm.\n`;
    },
  });
  log(`imported ${imported.files} files in ${Math.round((Date.now() - started) / 1000)}s`);
  const base = await git(dir, ['rev-parse', BASE_REF]);
  const date = `@${imported.epoch} +0000`;
  await git(dir, ['tag', '-a', `v${version}`, '-m', `Linux ${version}`, base], {
    ...gitIdentityEnv(MAINTAINER, MAINTAINER),
    GIT_COMMITTER_DATE: date,
  });
  return { version, base, baseEpoch: imported.epoch };
}

/**
 * The tree in the cache directory, made or brought up to date when the
 * tarball or the story changed. `log` hears about the slow steps.
 */
export async function ensureRealLinuxTree(
  opts: { cacheDir?: string; tarball?: string; log?: (line: string) => void } = {},
): Promise<RealLinuxTree> {
  const paths = cachePaths(opts.cacheDir ?? realLinuxCacheDir());
  const tarball = opts.tarball ?? DEFAULT_TARBALL;
  const log = opts.log ?? (() => undefined);
  const st = await stat(tarball).catch(() => undefined);
  if (!st?.isFile()) throw new MissingKernelSourceError(tarball);
  const identity = { path: tarball, size: st.size, mtimeMs: st.mtimeMs };
  const sameTarball = (m?: Manifest) =>
    !!m &&
    m.tarball.path === identity.path &&
    m.tarball.size === identity.size &&
    m.tarball.mtimeMs === identity.mtimeMs;
  const current = async () => {
    const m = await readManifest(paths.manifest);
    return m &&
      sameTarball(m) &&
      m.historyVersion === HISTORY_VERSION &&
      (await hasCommit(paths.repo, m.commits.at(-1)!.sha))
      ? m
      : undefined;
  };

  const ready = await current();
  if (ready) return fromManifest(paths.repo, ready);
  await mkdir(paths.root, { recursive: true });
  return withFileLock(paths.treeLock, async () => {
    const made = await current(); // by whoever held the lock before us
    if (made) return fromManifest(paths.repo, made);
    const old = await readManifest(paths.manifest);
    let base: Pick<Manifest, 'version' | 'base' | 'baseEpoch'>;
    if (old && sameTarball(old) && (await hasCommit(paths.repo, old.base))) {
      base = { version: old.version, base: old.base, baseEpoch: old.baseEpoch };
    } else {
      // imported beside the cache and renamed, so an interrupted import never looks finished
      const tmp = `${paths.repo}.tmp-${process.pid}`;
      base = await importBase(tmp, tarball, log);
      await rm(paths.manifest, { force: true });
      await rm(paths.repo, { recursive: true, force: true });
      await rename(tmp, paths.repo);
    }
    log(`writing the generated history on master (story version ${HISTORY_VERSION})`);
    const commits = await writeStory({ repo: paths.repo, base: base.base, baseEpoch: base.baseEpoch, ref: BRANCH });
    const manifest: Manifest = { tarball: identity, historyVersion: HISTORY_VERSION, ...base, commits };
    await writeFile(`${paths.manifest}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(`${paths.manifest}.tmp`, paths.manifest);
    return fromManifest(paths.repo, manifest);
  });
}
