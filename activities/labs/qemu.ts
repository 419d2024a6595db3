/**
 * The QEMU lab: boots a kernel in Debian's qemu-system-* (TCG, no KVM
 * needed), watches the serial console for the platform's patterns, and
 * stops QEMU — always, with its whole process group — once the verdict is
 * in, on timeout, or on cancellation.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { archInfo, type ArchInfo } from '../../domain/archs';
import type { PlatformConfig } from '../../domain/config';
import type { BootRequest, BootResult } from '../../domain/types';
import { bootLogKey, cancellationError, type BootContext, type LabAdapter } from './adapter';
import { fetchBootFiles, type BootFiles } from './bootFiles';
import { ConsoleWatcher } from './consoleWatcher';
import {
  outsideSignal,
  runConsoleProcess,
  storedConsole,
  type ConsoleProcessOptions,
  type ConsoleProcessRun,
} from './consoleProcess';
import { findExecutable } from './lifeBound';
import { bootKernelArgs, consoleTestSummary, testsStoppedReason } from './tests';

export interface QemuAdapterOptions {
  /** how long QEMU may keep printing after the verdict (the rest of a panic trace) before it is stopped; default 1000 */
  graceMs?: number;
  /** default 2000 */
  heartbeatMs?: number;
  /** appended to every QEMU command line, e.g. ['-accel', 'kvm'] on a host with KVM */
  extraArgs?: string[];
  /** QEMU binary per arch, overriding domain/archs.ts (a path or a name on PATH) */
  binaries?: Record<string, string>;
  /** console bytes kept for the stored log; default 32 MiB */
  maxLogBytes?: number;
}

/** The QEMU command line (argv, never a shell string) for one boot. */
export function qemuArgs(
  arch: ArchInfo,
  platform: PlatformConfig,
  files: BootFiles,
  extraArgs: readonly string[] = [],
  /** the kernel command line after console=; default the platform's kernelArgs */
  kernelArgs?: string,
): string[] {
  const append = [`console=${arch.qemu.console}`, kernelArgs ?? platform.kernelArgs.trim()].filter(Boolean).join(' ');
  return [
    ...arch.qemu.machine,
    '-nographic',
    '-no-reboot',
    '-m',
    String(platform.memoryMb),
    '-kernel',
    files.kernel,
    ...(files.ramdisk ? ['-initrd', files.ramdisk] : []),
    ...(files.dtb ? ['-dtb', files.dtb] : []),
    '-append',
    append,
    ...extraArgs,
  ];
}

async function runVm(binary: string, args: string[], opts: ConsoleProcessOptions): Promise<ConsoleProcessRun> {
  const qemu = await findExecutable(binary);
  if (!qemu)
    throw new Error(`QEMU binary ${binary} not found on this lab worker (Debian: qemu-system-x86 / qemu-system-arm)`);
  return runConsoleProcess(qemu, args, opts);
}

/**
 * QEMU ended by a signal from outside (the host's OOM killer, an operator)
 * before the console gave a verdict: the host failed, not the kernel.
 * Thrown so Temporal retries the boot; infra-error once retries run out.
 */
export class QemuKilledError extends Error {
  constructor(signal: string, lastLine: string) {
    super(
      `QEMU was killed by ${signal} from outside the boot (host OOM killer or an operator) before a verdict` +
        (lastLine ? `; last console line: ${lastLine}` : ''),
    );
    this.name = 'QemuKilledError';
  }
}

function statusOf(run: ConsoleProcessRun, req: BootRequest): Pick<BootResult, 'status' | 'message'> {
  if (run.outcome === 'cancelled') throw new Error('a cancelled boot has no status');
  // A verdict stands however QEMU ended: by itself (poweroff), stopped after it, or at the timeout just after it.
  if (run.verdict) return { status: run.verdict.status, message: run.verdict.line };
  if (run.outcome === 'exited') {
    const how = run.exit.signal ? `was killed by ${run.exit.signal}` : `exited with status ${run.exit.code}`;
    const last = run.lastLine ? `; last console line: ${run.lastLine}` : '';
    return { status: 'fail', message: `QEMU ${how} before ${JSON.stringify(req.platform.successPattern)}${last}` };
  }
  return { status: 'fail', message: `boot timed out after ${Math.round(req.timeoutMs / 1000)}s` };
}

export class QemuAdapter implements LabAdapter {
  readonly kind = 'qemu';
  private readonly graceMs: number;
  private readonly heartbeatMs: number;
  private readonly maxLogBytes: number;

  constructor(private readonly opts: QemuAdapterOptions = {}) {
    this.graceMs = opts.graceMs ?? 1000;
    this.heartbeatMs = opts.heartbeatMs ?? 2000;
    this.maxLogBytes = opts.maxLogBytes ?? 32 * 1024 * 1024;
  }

  async boot(req: BootRequest, ctx: BootContext): Promise<BootResult> {
    const arch = archInfo(req.arch);
    if (req.platform.arch !== req.arch)
      throw new Error(`platform ${req.platform.name} is ${req.platform.arch}, the kernel is ${req.arch}`);
    if (!(req.timeoutMs > 0)) throw new Error(`boot timeout must be positive, not ${req.timeoutMs}`);
    if (ctx.signal.aborted) throw cancellationError(ctx.signal);
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, 'qemu-'));
    try {
      ctx.heartbeat({ phase: 'fetching' });
      const files = await fetchBootFiles(req, ctx, dir);
      const binary = this.opts.binaries?.[req.arch] ?? arch.qemu.binary;
      const args = qemuArgs(arch, req.platform, files, this.opts.extraArgs, bootKernelArgs(req));
      ctx.log(`${binary} ${args.join(' ')}`);
      const run = await runVm(binary, args, {
        cwd: dir,
        timeoutMs: req.timeoutMs,
        stopAfterVerdictMs: this.graceMs,
        ...(req.tests ? { testsMs: req.tests.timeoutMs } : {}),
        heartbeatMs: this.heartbeatMs,
        maxLogBytes: this.maxLogBytes,
        watcher: new ConsoleWatcher(req.platform),
        ctx,
      });
      if (run.outcome === 'cancelled') throw cancellationError(ctx.signal);
      const killed = run.verdict ? undefined : outsideSignal(run);
      if (killed) throw new QemuKilledError(killed, run.lastLine);
      if (run.outcome === 'exited' && run.console.length === 0 && run.exit.code !== 0 && run.stderr.trim()) {
        // QEMU refused to start (bad option, unreadable file): the lab's problem, not the kernel's
        throw new Error(`${binary} failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
      const log = await ctx.store.put(bootLogKey(req.bootKey), storedConsole(run, this.maxLogBytes), {
        contentType: 'text/plain; charset=utf-8',
      });
      const verdict = statusOf(run, req);
      const tests = await consoleTestSummary(req, ctx.store, {
        ...verdict,
        console: run.console.toString('utf8'),
        markerLine: run.verdict?.lineNumber ?? 0,
        ...(run.testsStopped ? { stopped: testsStoppedReason(req) } : {}),
      });
      return {
        ...verdict,
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
