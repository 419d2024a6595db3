import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { archInfo, type ArchInfo } from '../../domain/archs';
import { buildConfigSchema, type BuildConfig } from '../../domain/config';
import type { BuildActivities as BuildActivitiesContract } from '../../domain/activityContracts';
import type { ArtifactRef, BuildRequest, BuildResult } from '../../domain/types';
import { ErrorType, nonRetryable, RetryableErrorType, retryable } from '../../domain/errors';
import { BuildLogParser } from './logParser';
import { configEnabled, isFragmentFile, isFragmentLine, mergeConfig } from './kconfig';
import { resolveToolchain, type Toolchain } from './toolchain';
import { checkoutWorktree } from './worktree';
import { run } from '../../plumbing/git/command';
import { withFileLock, type FileLock } from '../../plumbing/git/fileLock';
import { cancellationSignal, keepHeartbeating } from '../../plumbing/git/heartbeat';
import { assertSha, assertTree, git } from '../../plumbing/git/mirror';
import { commitToBuild } from './commitSource';
import type { ArtifactStore } from '../../plumbing/store/types';
import { allowedEnv, boxProduct, boxUserOf, boxedArgv, ownForBox, replaceInBox, type BoxUser } from './box';
import { CappedLog, DEFAULT_MAX_LOG_BYTES } from './cappedLog';
import { findOnPath } from '../../plumbing/tools';
import { machineFailure, oomKills } from './machineFailure';

/** A build that runs longer than this is stopped and fails (a Makefile that never ends). */
export const DEFAULT_BUILD_TIMEOUT_MS = 3 * 3600_000;

export interface BuildDeps {
  store: ArtifactStore;
  /** persistent per-builder state: one worktree and object directory per (tree, build config) */
  workDir: string;
  /** make -j; default: the number of CPUs */
  jobs?: number;
  /** compile through ccache when it is installed (default true) */
  ccache?: boolean;
  builderName?: string;
  git: { mirrorDir: string };
  /** extra environment for make: only PATH, CCACHE_* and SOURCE_DATE_EPOCH pass (./box.ts) */
  env?: Record<string, string>;
  /** the stored build log keeps at most this many bytes, head and tail (default 16 MiB) */
  maxLogBytes?: number;
  /** a build (all its make steps) is stopped and fails after this long (default 3 h) */
  buildTimeoutMs?: number;
  /** the user builds run as when the builder is root (default uid/gid 64200) */
  boxUser?: BoxUser;
}

/** Where a (tree, build config) keeps its state on a builder. */
export function buildDirs(workDir: string, tree: string, configName: string) {
  const base = join(resolve(workDir), 'builds', tree, configName);
  return {
    base,
    /** the git worktree */
    src: join(base, 'src'),
    /** kbuild's O= directory, kept between builds */
    obj: join(base, 'obj'),
    log: join(base, 'build.log'),
    staging: join(base, 'staging'),
    /** the build's HOME and TMPDIR, emptied before each build */
    scratch: join(base, 'scratch'),
    /** present while a make runs: a build directory whose make was killed is not trusted */
    interrupted: join(base, 'make-interrupted'),
    /** one build at a time per directory: two makes in one O= break each other */
    lock: `${base}.lock`,
  };
}

/** Artifacts of a build live under builds/<tree>/<sha>/<config>/ (the full sha: a prefix can be made to collide). */
export function buildArtifactPrefix(tree: string, sha: string, configName: string): string {
  return `builds/${tree}/${sha}/${configName}`;
}

const HEARTBEAT_MS = 5000;

function invalid(message: string): never {
  throw nonRetryable(ErrorType.invalidInput, message);
}

/** Everything that reaches a command line or a path, checked before anything runs. */
function checkRequest(req: BuildRequest): { config: BuildConfig; arch: ArchInfo } {
  assertTree(req.tree);
  assertSha(req.sha);
  if (req.revert) {
    assertSha(req.revert.bad);
    assertSha(req.revert.culprit);
  }
  const parsed = buildConfigSchema.safeParse(req.config);
  if (!parsed.success)
    invalid(
      `build config ${JSON.stringify(req.config?.name)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const config = parsed.data;
  for (const f of config.fragments)
    if (!isFragmentLine(f) && !isFragmentFile(f))
      invalid(`build config ${config.name}: fragment ${JSON.stringify(f)} must stay inside the tree`);
  return { config, arch: archInfo(config.arch) };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** UTC in date(1)'s format ("Sat Nov  5 09:03:07 UTC 2022"), which kbuild prints in the banner and `date -d` reads back. */
export function kbuildTimestamp(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${time} UTC ${d.getUTCFullYear()}`;
}

async function containsFile(dir: string, test: (name: string) => boolean): Promise<boolean> {
  if (!existsSync(dir)) return false;
  const entries = await readdir(dir, { recursive: true });
  return entries.some((e) => test(basename(e)));
}

class LogFile {
  private readonly file: CappedLog;
  constructor(
    readonly path: string,
    readonly parser: BuildLogParser,
    maxBytes: number,
  ) {
    this.file = new CappedLog(path, maxBytes);
  }
  /** a line of Bootfarm's own, marked so it never reads as make output */
  note(text: string) {
    this.file.write(`bootfarm: ${text}\n`);
  }
  /** the command as one could paste it into a shell */
  command(argv: string[]) {
    const quoted = argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
    this.file.write(`$ ${quoted.join(' ')}\n`);
  }
  output(chunk: Buffer) {
    this.file.write(chunk);
    this.parser.push(chunk);
  }
  async close(): Promise<void> {
    await this.file.close();
    if (this.file.failure)
      throw retryable(
        RetryableErrorType.buildInfra,
        `writing the build log failed: ${this.file.failure.message}`,
        this.file.failure,
      );
  }
}

interface Outcome {
  status: 'pass' | 'fail';
  message?: string;
}

/** What a build directory's build needs from the builder. */
interface Builder {
  store: ArtifactStore;
  workDir: string;
  jobs: number;
  name: string;
  env?: Record<string, string>;
  maxLogBytes: number;
  buildTimeoutMs: number;
  /** undefined: the builder is not root and builds as itself */
  boxUser?: BoxUser;
  ccacheDir: string;
}

/** One build in a locked build directory: configure, make, collect. */
class KernelBuild {
  private readonly log: LogFile;
  private readonly makeArgs: string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly configPath: string;
  private readonly files = new Map<string, string>();
  /** a .config left by an earlier build is not this build's */
  private configWritten = false;
  private readonly deadline: number;
  private timedOut = false;

  constructor(
    private readonly builder: Builder,
    private readonly b: {
      req: BuildRequest;
      sha: string;
      config: BuildConfig;
      arch: ArchInfo;
      toolchain: Toolchain;
      dirs: ReturnType<typeof buildDirs>;
      lock: FileLock;
      parser: BuildLogParser;
      setStep: (s: string) => void;
      signal?: AbortSignal;
      commitEpoch: number;
      /** the tree's mirror: the worktree's .git points into it (kbuild runs git) */
      mirror: string;
    },
  ) {
    this.log = new LogFile(b.dirs.log, b.parser, builder.maxLogBytes);
    this.deadline = Date.now() + builder.buildTimeoutMs;
    this.configPath = join(b.dirs.obj, '.config');
    this.makeArgs = [
      `ARCH=${b.arch.kernelArch}`,
      `CROSS_COMPILE=${b.arch.crossCompile}`,
      `O=${b.dirs.obj}`,
      ...b.toolchain.makeVars,
    ];
    // Allow-listed: the builder's secrets (DATABASE_URL, S3 keys, tokens) never reach a Makefile.
    this.env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      ...allowedEnv(process.env, builder.env),
      LC_ALL: 'C',
      HOME: b.dirs.scratch,
      TMPDIR: b.dirs.scratch,
      // identical inputs give identical kernels, whichever builder and however warm its build directory
      KBUILD_BUILD_TIMESTAMP: kbuildTimestamp(b.commitEpoch),
      KBUILD_BUILD_USER: 'bootfarm',
      KBUILD_BUILD_HOST: 'bootfarm',
      KBUILD_BUILD_VERSION: '1',
      CCACHE_DIR: builder.ccacheDir,
      CCACHE_BASEDIR: builder.env?.CCACHE_BASEDIR ?? process.env.CCACHE_BASEDIR ?? builder.workDir,
      // the worktree and mirror belong to the builder, not to the build user: let kbuild's git read them
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'safe.directory',
      GIT_CONFIG_VALUE_0: '*',
    };
  }

  /** The box: reads the worktree and mirror, writes the build, staging and scratch directories and ccache. */
  private boxed(cmd: string, args: string[]) {
    try {
      return this.boxedOrThrow(cmd, args);
    } catch (e) {
      throw retryable(RetryableErrorType.buildInfra, `builder ${this.builder.name}: ${(e as Error).message}`);
    }
  }

  private boxedOrThrow(cmd: string, args: string[]) {
    const { dirs, mirror } = this.b;
    return boxedArgv(
      { readOnly: [dirs.src, mirror], writable: [dirs.obj, dirs.staging, dirs.scratch, this.builder.ccacheDir] },
      this.builder.boxUser,
      dirs.src,
      cmd,
      args,
    );
  }

  /** The directories the box writes, owned by its user; scratch and staging empty. */
  private async prepareBox(): Promise<void> {
    const { dirs } = this.b;
    const user = this.builder.boxUser;
    if (existsSync(dirs.interrupted)) {
      this.log.note('the last make in this build directory did not end on its own: building from an empty directory');
      await rm(dirs.obj, { recursive: true, force: true });
      await rm(dirs.interrupted, { force: true });
    }
    for (const dir of [dirs.scratch, dirs.staging]) await rm(dir, { recursive: true, force: true });
    for (const dir of [dirs.obj, dirs.scratch, dirs.staging, this.builder.ccacheDir]) await ownForBox(dir, user);
  }

  async run(): Promise<Outcome> {
    const { req, sha, config } = this.b;
    this.log.note(
      `bootfarm build of ${req.tree} ${sha} (${req.describe}) config ${config.name}: ${config.arch} ${config.defconfig}${config.fragments.length ? ` + ${config.fragments.join(' ')}` : ''}`,
    );
    this.log.note(
      `builder ${this.builder.name}, toolchain ${this.b.toolchain.description}, make -j${this.builder.jobs}`,
    );
    await this.prepareBox();
    await this.noteToolchainChange();
    const configured = await this.configure();
    if (configured) return configured;
    return this.compile();
  }

  /** kbuild records each file's compiler command: a new CC rebuilds everything, say so in the log. */
  private async noteToolchainChange() {
    const stamp = join(this.b.dirs.base, 'toolchain');
    const previous = existsSync(stamp) ? (await readFile(stamp, 'utf8')).trim() : undefined;
    if (previous && previous !== this.b.toolchain.description)
      this.log.note(`toolchain changed from ${previous}: everything is rebuilt`);
    await writeFile(stamp, `${this.b.toolchain.description}\n`);
  }

  private async make(args: string[]): Promise<boolean> {
    const { signal } = this.b;
    this.b.setStep(`make ${args.filter((a) => !a.startsWith('-j') && !a.includes('=')).join(' ')}`);
    this.b.parser.startStep();
    const argv = [...this.makeArgs, ...args];
    this.log.command(['make', ...argv]);
    const left = this.deadline - Date.now();
    if (left <= 0) return this.overTime();
    const killsBefore = await oomKills();
    const boxed = this.boxed('make', argv);
    if (!findOnPath('make', this.env.PATH))
      throw retryable(
        RetryableErrorType.buildInfra,
        `builder ${this.builder.name} cannot run make: not found on the build's PATH (${this.env.PATH})`,
      );
    // A make that does not end on its own (cancelled, timed out, builder killed) may leave half-written
    // objects with fresh timestamps: the stamp makes the next build start from an empty build directory.
    await writeFile(this.b.dirs.interrupted, `${process.pid}\n`);
    const r = await run(boxed.cmd, boxed.args, {
      cwd: this.b.dirs.src,
      env: this.env,
      signal,
      timeoutMs: left,
      // SIGKILL reaches the box's init in make's process group, and so every process in the box
      killGraceMs: 0,
      inheritFds: [this.b.lock.fd],
      captureLimit: 64 * 1024,
      onOutput: (c) => this.log.output(c),
    });
    if (signal?.aborted) throw signal.reason ?? new Error('build cancelled');
    if (r.aborted) return this.overTime();
    if (!r.signal) await rm(this.b.dirs.interrupted, { force: true });
    if (r.code === 0) return true;
    this.log.note(r.signal ? `make was killed by ${r.signal}` : `make exited with ${r.code}`);
    // What the machine says, not what the tree printed, decides whether the builder failed.
    const machine = await machineFailure([this.b.dirs.obj, this.builder.ccacheDir], killsBefore);
    const claimed = this.b.parser.summary().infraLines;
    if (r.signal || machine) {
      const why = machine ?? `make was killed by ${r.signal}`;
      this.log.note(`the builder failed: ${why}`);
      await this.log.close().catch(() => undefined);
      throw retryable(
        RetryableErrorType.buildInfra,
        `builder ${this.builder.name} could not build: ${why}${claimed[0] ? ` (${claimed[0]})` : ''}`,
      );
    }
    if (claimed.length)
      this.log.note(
        `the output says "${claimed[0]}", but the builder has disk space and no process was killed: the tree's failure`,
      );
    return false;
  }

  private overTime(): false {
    this.timedOut = true;
    this.log.note(
      `stopped: the build took longer than the builder's limit of ${Math.round(this.builder.buildTimeoutMs / 1000)} s`,
    );
    return false;
  }

  private async fail(message: string): Promise<Outcome> {
    const why = this.timedOut
      ? `${message}: stopped after the builder's build time limit of ${Math.round(this.builder.buildTimeoutMs / 1000)} s`
      : message;
    this.log.note(`build failed: ${why}`);
    return { status: 'fail', message: why };
  }

  /**
   * defconfig, then fragments merged and olddefconfig. An unchanged .config
   * gets its old timestamp back so make sees nothing new to rebuild.
   */
  private async configure(): Promise<Outcome | undefined> {
    const { config, dirs } = this.b;
    const before = (await boxProduct(this.configPath, dirs.obj))
      ? { text: await readFile(this.configPath, 'utf8'), ...(await stat(this.configPath)) }
      : undefined;
    if (!(await this.make([config.defconfig]))) return this.fail(`make ${config.defconfig} failed`);
    this.configWritten = true;
    if (config.fragments.length) {
      const lines: string[] = [];
      for (const fragment of config.fragments) {
        if (isFragmentLine(fragment)) {
          lines.push(fragment);
          continue;
        }
        const path = join(dirs.src, fragment);
        // a symlink in the tree must not make the builder read its own files into .config
        if (!existsSync(path)) return this.fail(`config fragment ${fragment} is not in the tree`);
        if (!(await boxProduct(path, dirs.src)))
          return this.fail(`config fragment ${fragment} is not a file of the tree`);
        lines.push(...(await readFile(path, 'utf8')).split('\n'));
      }
      const current = await this.readConfig();
      if (current === undefined) return this.fail(`make ${config.defconfig} left no .config`);
      this.log.note(`merging ${config.fragments.join(' ')} into .config`);
      await replaceInBox(this.configPath, mergeConfig(current, lines), this.builder.boxUser);
      if (!(await this.make(['olddefconfig']))) return this.fail('make olddefconfig failed');
    }
    if (before && (await this.readConfig()) === before.text) await utimes(this.configPath, before.atime, before.mtime);
    return undefined;
  }

  /** .config as the build left it, if it is a plain file of the build directory. */
  private async readConfig(): Promise<string | undefined> {
    return (await boxProduct(this.configPath, this.b.dirs.obj)) ? readFile(this.configPath, 'utf8') : undefined;
  }

  /** The image, plus modules and dtbs when the configured tree has them. */
  private async compile(): Promise<Outcome> {
    const { arch, dirs } = this.b;
    const kconfig = await this.readConfig();
    if (kconfig === undefined) return this.fail('the build directory has no .config');
    const srcArch = arch.imagePath.split('/')[1];
    const modules = configEnabled(kconfig, 'MODULES');
    const dtbs =
      (this.b.req.dtbs ?? configEnabled(kconfig, 'OF')) && existsSync(join(dirs.src, 'arch', srcArch, 'boot', 'dts'));
    const targets = [arch.imageTarget, ...(modules ? ['modules'] : []), ...(dtbs ? ['dtbs'] : [])];
    if (!(await this.make([`-j${this.builder.jobs}`, ...targets])))
      return this.fail(`make ${targets.join(' ')} failed`);
    const image = join(dirs.obj, arch.imagePath);
    if (!(await boxProduct(image, dirs.obj)))
      return this.fail(`make ${arch.imageTarget} succeeded but ${arch.imagePath} is missing (or not a file)`);
    this.files.set('kernel', image);
    if (await boxProduct(join(dirs.obj, 'System.map'), dirs.obj))
      this.files.set('systemMap', join(dirs.obj, 'System.map'));
    if (modules)
      await this.installTarball('modules', 'modules_install', 'INSTALL_MOD_PATH', (n) => /\.ko(\.\w+)?$/.test(n));
    if (dtbs) await this.installTarball('dtbs', 'dtbs_install', 'INSTALL_DTBS_PATH', (n) => n.endsWith('.dtb'));
    return { status: 'pass' };
  }

  private async installTarball(role: string, target: string, pathVar: string, wanted: (name: string) => boolean) {
    const dir = join(this.b.dirs.staging, role);
    if (!(await this.make([target, `${pathVar}=${dir}`])))
      throw retryable(RetryableErrorType.buildInfra, `make ${target} failed after a successful build`);
    if (!(await containsFile(dir, wanted))) return;
    // beside the staging directory, never in it: the build could have planted a symlink at that name
    const tarball = join(this.b.dirs.base, `${role}.tar.gz`);
    await rm(tarball, { force: true });
    const r = await run(
      'tar',
      [
        '--sort=name',
        `--mtime=@${this.b.commitEpoch}`,
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '-I',
        'gzip -n',
        '-cf',
        tarball,
        '-C',
        dir,
        '.',
      ],
      { env: this.env },
    );
    if (r.code !== 0) throw retryable(RetryableErrorType.buildInfra, `packing ${role} failed: ${r.stderr.trim()}`);
    this.files.set(role, tarball);
  }

  /** Log, .config and (on success) the products go to the store; the result carries their keys. */
  async store(outcome: Outcome): Promise<Omit<BuildResult, 'durationMs' | 'builder'>> {
    const { req, sha, config, arch } = this.b;
    if (this.configWritten && (await boxProduct(this.configPath, this.b.dirs.obj)))
      this.files.set('config', this.configPath);
    this.log.note(`result: ${outcome.status}${outcome.message ? ` (${outcome.message})` : ''}`);
    await this.log.close();
    const summary = this.b.parser.summary();
    const prefix = buildArtifactPrefix(req.tree, sha, config.name);
    const names: Record<string, string> = {
      kernel: basename(arch.imagePath),
      systemMap: 'System.map',
      config: 'kernel.config',
      modules: 'modules.tar.gz',
      dtbs: 'dtbs.tar.gz',
    };
    const artifacts: Record<string, ArtifactRef> = {};
    for (const [role, path] of this.files)
      artifacts[role] = await this.builder.store.putFile(`${prefix}/${names[role]}`, path);
    artifacts.log = await this.builder.store.putFile(`${prefix}/build.log`, this.b.dirs.log, {
      contentType: 'text/plain; charset=utf-8',
    });
    const failed = outcome.status === 'fail';
    return {
      status: outcome.status,
      warnings: summary.warnings,
      errors: failed ? Math.max(summary.errors, 1) : summary.errors,
      errorLines:
        failed && !summary.errorLines.length && outcome.message ? [outcome.message] : failed ? summary.errorLines : [],
      message: outcome.message,
      artifacts,
    };
  }
}

/** The builder's activities (task queue `build` / `build-<arch>`). */
export function createBuildActivities(deps: BuildDeps) {
  const workDir = resolve(deps.workDir);
  const mirrorDir = resolve(deps.git.mirrorDir);
  const builder: Builder = {
    store: deps.store,
    workDir,
    jobs: deps.jobs ?? availableParallelism(),
    name: deps.builderName ?? hostname(),
    env: deps.env,
    maxLogBytes: deps.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES,
    buildTimeoutMs: deps.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
    boxUser: boxUserOf(deps.boxUser),
    ccacheDir: resolve(deps.env?.CCACHE_DIR ?? process.env.CCACHE_DIR ?? join(workDir, 'ccache')),
  };

  async function buildKernel(req: BuildRequest): Promise<BuildResult> {
    const started = Date.now();
    const { config, arch } = checkRequest(req);
    const { tree } = req;
    const signal = cancellationSignal();
    const parser = new BuildLogParser();
    let step = 'fetch';
    const heartbeat = keepHeartbeating(() => ({ step, logLines: parser.lineCount }), HEARTBEAT_MS);
    const setStep = (s: string) => {
      step = s;
      heartbeat.beat();
    };
    try {
      const toolchain = resolveToolchain(config.toolchain, arch.crossCompile, { ccache: deps.ccache ?? true });
      const { mirror, sha } = await commitToBuild(mirrorDir, req, signal);
      const commitEpoch = Number((await git(['-C', mirror, 'show', '-s', '--format=%ct', sha])).trim());
      const dirs = buildDirs(workDir, tree, config.name);
      await mkdir(dirs.base, { recursive: true });
      setStep('wait for the build directory');
      return await withFileLock(
        dirs.lock,
        async (lock) => {
          setStep('checkout');
          await checkoutWorktree({ mirrorDir, tree, mirror, dir: dirs.src, sha, signal });
          const build = new KernelBuild(builder, {
            req,
            sha,
            config,
            arch,
            toolchain,
            dirs,
            lock,
            parser,
            setStep,
            signal,
            commitEpoch,
            mirror,
          });
          const outcome = await build.run();
          setStep('store artifacts');
          return {
            ...(await build.store(outcome)),
            durationMs: Date.now() - started,
            builder: builder.name,
          };
        },
        { signal },
      );
    } finally {
      heartbeat.stop();
    }
  }

  return { buildKernel } satisfies BuildActivitiesContract;
}
