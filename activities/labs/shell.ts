/**
 * The shell lab: a lab's own program boots the board (pyboot-style). It gets
 * the boot's files as arguments — never through a shell — and the boot's
 * facts as BOOTFARM_* environment variables; its standard output is the
 * console. Exit status 0 means pass and 1 fail, cross-checked with the
 * console (a panic on the console fails the boot whatever the program says);
 * any other ending is the lab's failure and is thrown, so the boot is retried.
 *
 * Arguments: the configured `args` with `{kernel}`, `{ramdisk}`, `{dtb}`,
 * `{platform}` and `{arch}` replaced (an absent file gives ''); when no
 * argument mentions `{kernel}`, `--kernel K [--ramdisk R] [--dtb D]` follow.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LabConfig } from '../../domain/config';
import type { BootRequest, BootResult } from '../../domain/types';
import { bootLogKey, cancellationError, type BootContext, type LabAdapter } from './adapter';
import { fetchBootFiles, type BootFiles } from './bootFiles';
import { outsideSignal, runConsoleProcess, storedConsole, type ConsoleProcessRun } from './consoleProcess';
import { ConsoleWatcher } from './consoleWatcher';
import { consoleTestSummary, testsEnv, testsStoppedReason } from './tests';

export interface ShellAdapterOptions {
  /** a path (relative to the worker's directory) or a name on PATH */
  program: string;
  args?: string[];
  /** default 2000 */
  heartbeatMs?: number;
  /** console bytes kept for the stored log; default 32 MiB */
  maxLogBytes?: number;
}

/** The lab's program failed, not the kernel: thrown so Temporal retries the boot. */
export class ShellLabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellLabError';
  }
}

export function shellArgs(
  args: readonly string[],
  files: BootFiles,
  req: Pick<BootRequest, 'arch' | 'platform'>,
): string[] {
  const values: Record<string, string> = {
    kernel: files.kernel,
    ramdisk: files.ramdisk ?? '',
    dtb: files.dtb ?? '',
    platform: req.platform.name,
    arch: req.arch,
  };
  const out = args.map((a) => a.replace(/\{(kernel|ramdisk|dtb|platform|arch)\}/g, (_m, k: string) => values[k]));
  if (args.some((a) => a.includes('{kernel}'))) return out;
  out.push('--kernel', files.kernel);
  if (files.ramdisk) out.push('--ramdisk', files.ramdisk);
  if (files.dtb) out.push('--dtb', files.dtb);
  return out;
}

export function shellEnv(req: BootRequest, files: BootFiles): Record<string, string> {
  return {
    BOOTFARM_PLATFORM: req.platform.name,
    BOOTFARM_ARCH: req.arch,
    BOOTFARM_KERNEL: files.kernel,
    BOOTFARM_RAMDISK: files.ramdisk ?? '',
    BOOTFARM_DTB: files.dtb ?? '',
    BOOTFARM_KERNEL_ARGS: req.platform.kernelArgs,
    BOOTFARM_MEMORY_MB: String(req.platform.memoryMb),
    BOOTFARM_SUCCESS_PATTERN: req.platform.successPattern,
    // the whole session: the boot, then the planned tests
    BOOTFARM_TIMEOUT: String(Math.ceil((req.timeoutMs + (req.tests?.timeoutMs ?? 0)) / 1000)),
    BOOTFARM_TREE: req.tree,
    BOOTFARM_DESCRIBE: req.describe,
    BOOTFARM_SHA: req.sha,
    BOOTFARM_CONFIG: req.configName,
    BOOTFARM_LAB: req.lab,
    BOOTFARM_BOOT_KEY: req.bootKey,
    ...testsEnv(req),
  };
}

export interface ShellVerdict {
  status: 'pass' | 'fail' | 'infra-error';
  message: string;
}

/** The boot's verdict from how the program ended and what the console showed. */
export function judgeShellRun(run: ConsoleProcessRun, program: string, timeoutMs: number): ShellVerdict {
  const seen = run.verdict;
  const last = run.lastLine ? `; last console line: ${run.lastLine}` : '';
  if (seen?.status === 'fail') return { status: 'fail', message: seen.line };
  // stopped at the end of the plans' time: the boot passed, its tests are cut short
  if (run.testsStopped && seen?.status === 'pass') return { status: 'pass', message: seen.line };
  if (run.outcome === 'timeout') {
    if (seen?.status === 'pass')
      return {
        status: 'infra-error',
        message: `${program} still running ${Math.round(timeoutMs / 1000)}s after the console showed success`,
      };
    return { status: 'fail', message: `boot timed out after ${Math.round(timeoutMs / 1000)}s${last}` };
  }
  // a console verdict of failure stands (above); the program's death by a signal is the lab's, never the kernel's
  const killed = outsideSignal(run);
  if (killed)
    return {
      status: 'infra-error',
      message: `${program} was killed by ${killed} from outside the boot (host OOM killer or an operator)${last}`,
    };
  if (run.exit.signal) return { status: 'infra-error', message: `${program} was killed by ${run.exit.signal}${last}` };
  if (run.exit.code === 0) return { status: 'pass', message: seen?.line ?? `${program} reported pass` };
  if (run.exit.code === 1) return { status: 'fail', message: `${program} reported fail${last}` };
  const stderr = run.stderr.trim().split('\n').slice(-3).join(' | ');
  // a shell reports a child killed by signal N as status 128 + N
  const bySignal =
    run.exit.code !== null && run.exit.code > 128 && run.exit.code < 160
      ? ` (as after a signal ${run.exit.code - 128})`
      : '';
  return {
    status: 'infra-error',
    message: `${program} exited with status ${run.exit.code}${bySignal} (0 = pass, 1 = fail)${stderr ? `: ${stderr}` : ''}`,
  };
}

export class ShellAdapter implements LabAdapter {
  readonly kind = 'shell';
  private readonly program: string;
  private readonly heartbeatMs: number;
  private readonly maxLogBytes: number;

  constructor(private readonly opts: ShellAdapterOptions) {
    // the program runs in the boot's scratch directory: a relative path must not depend on that
    this.program = opts.program.includes('/') ? resolve(opts.program) : opts.program;
    this.heartbeatMs = opts.heartbeatMs ?? 2000;
    this.maxLogBytes = opts.maxLogBytes ?? 32 * 1024 * 1024;
  }

  /** The adapter of a lab configured with `adapter: shell`. */
  static forLab(lab: LabConfig): ShellAdapter {
    if (!lab.shell) throw new Error(`lab ${lab.name} has no shell: {program} section`);
    return new ShellAdapter(lab.shell);
  }

  async boot(req: BootRequest, ctx: BootContext): Promise<BootResult> {
    if (!(req.timeoutMs > 0)) throw new Error(`boot timeout must be positive, not ${req.timeoutMs}`);
    if (ctx.signal.aborted) throw cancellationError(ctx.signal);
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, 'shell-'));
    try {
      ctx.heartbeat({ phase: 'fetching' });
      const files = await fetchBootFiles(req, ctx, dir);
      const args = shellArgs(this.opts.args ?? [], files, req);
      const run = await runConsoleProcess(this.program, args, {
        cwd: dir,
        env: { ...process.env, ...shellEnv(req, files) },
        timeoutMs: req.timeoutMs,
        ...(req.tests ? { testsMs: req.tests.timeoutMs } : {}),
        heartbeatMs: this.heartbeatMs,
        maxLogBytes: this.maxLogBytes,
        watcher: new ConsoleWatcher(req.platform),
        ctx,
      }).catch((e: NodeJS.ErrnoException) => {
        throw new ShellLabError(`lab program ${this.program} cannot be run: ${e.code ?? e.message}`);
      });
      if (run.outcome === 'cancelled') throw cancellationError(ctx.signal);
      const log = await ctx.store.put(bootLogKey(req.bootKey), storedConsole(run, this.maxLogBytes), {
        contentType: 'text/plain; charset=utf-8',
      });
      const verdict = judgeShellRun(run, this.program, req.timeoutMs);
      ctx.log(`${this.program}: ${verdict.status}: ${verdict.message}`);
      if (verdict.status === 'infra-error') throw new ShellLabError(verdict.message);
      const tests = await consoleTestSummary(req, ctx.store, {
        ...verdict,
        console: run.console.toString('utf8'),
        markerLine: run.verdict?.lineNumber ?? 0,
        ...(run.testsStopped ? { stopped: testsStoppedReason(req) } : {}),
      });
      return {
        status: verdict.status,
        message: verdict.message,
        platform: req.platform.name,
        lab: req.lab,
        durationMs: run.durationMs,
        log,
        ...(tests ? { tests } : {}),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
