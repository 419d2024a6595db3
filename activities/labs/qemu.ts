/**
 * The QEMU lab: boots a kernel in Debian's qemu-system-* (TCG, no KVM
 * needed), watches the serial console for the platform's patterns, and
 * stops QEMU — always, with its whole process group — once the verdict is
 * in, on timeout, or on cancellation.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { archInfo, type ArchInfo } from '../../common/archs';
import type { PlatformConfig } from '../../common/config';
import type { BootRequest, BootResult } from '../../common/types';
import { bootLogKey, cancellationError, type BootContext, type LabAdapter } from './adapter';
import { fetchBootFiles, type BootFiles } from './bootFiles';
import { ConsoleWatcher, type ConsoleVerdict } from './consoleWatcher';
import { findExecutable, lifeBound } from './lifeBound';

export interface QemuAdapterOptions {
  /** how long QEMU may keep printing after the verdict (the rest of a panic trace) before it is stopped; default 1000 */
  graceMs?: number;
  /** default 2000 */
  heartbeatMs?: number;
  /** appended to every QEMU command line, e.g. ['-accel', 'kvm'] on a host with KVM */
  extraArgs?: string[];
  /** QEMU binary per arch, overriding common/archs.ts (a path or a name on PATH) */
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
): string[] {
  const append = [`console=${arch.qemu.console}`, platform.kernelArgs.trim()].filter(Boolean).join(' ');
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

type Outcome = 'verdict' | 'timeout' | 'exited' | 'cancelled';

interface VmRun {
  outcome: Outcome;
  verdict?: ConsoleVerdict;
  console: Buffer;
  truncated: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
  lastLine: string;
  durationMs: number;
}

interface VmOptions {
  cwd: string;
  timeoutMs: number;
  graceMs: number;
  heartbeatMs: number;
  maxLogBytes: number;
  watcher: ConsoleWatcher;
  ctx: BootContext;
}

/** QEMU process groups alive in this worker; killed if the worker exits (a killed worker: see lifeBound.ts). */
const running = new Set<number>();
let exitHook = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function track(pid: number): void {
  running.add(pid);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => running.forEach((p) => killGroup(p, 'SIGKILL')));
  }
}

const STOP_ESCALATION_MS = 2000;

async function runVm(binary: string, args: string[], opts: VmOptions): Promise<VmRun> {
  const { ctx, watcher } = opts;
  const qemu = await findExecutable(binary);
  if (!qemu)
    throw new Error(`QEMU binary ${binary} not found on this lab worker (Debian: qemu-system-x86 / qemu-system-arm)`);
  const [program, argv] = await lifeBound(qemu, args, opts.timeoutMs + opts.graceMs + 30_000);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(program, argv, { cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let stderr = '';
    let ending: Outcome | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const decoder = new StringDecoder('utf8');

    const terminate = (why: Outcome) => {
      if (ending || !child.pid) return;
      ending = why;
      killGroup(child.pid, 'SIGTERM');
      const pid = child.pid;
      timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_ESCALATION_MS));
    };
    const observe = (text: string) => {
      const before = watcher.verdict;
      const verdict = watcher.feed(text);
      if (verdict && !before) {
        ctx.log(`verdict ${verdict.status}: ${verdict.line}`);
        timers.push(setTimeout(() => terminate('verdict'), opts.graceMs));
      }
    };
    const onAbort = () => terminate('cancelled');

    child.stdout?.on('data', (data: Buffer) => {
      if (kept < opts.maxLogBytes) {
        const part = data.subarray(0, opts.maxLogBytes - kept);
        chunks.push(part);
        kept += part.length;
        truncated ||= part.length < data.length;
      } else {
        truncated = true;
      }
      observe(decoder.write(data));
    });
    child.stderr?.on('data', (data: Buffer) => {
      const text = data.toString('utf8');
      if (stderr.length < 64 * 1024) stderr += text;
      for (const line of text.split('\n')) if (line.trim()) ctx.log(`${binary}: ${line.trim()}`);
    });
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      ctx.signal.removeEventListener('abort', onAbort);
      if (child.pid) running.delete(child.pid);
      reject(err);
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      ctx.signal.removeEventListener('abort', onAbort);
      if (child.pid) running.delete(child.pid);
      observe(decoder.end());
      const verdict = watcher.end();
      resolve({
        outcome: ending ?? (verdict ? 'verdict' : 'exited'),
        verdict,
        console: Buffer.concat(chunks),
        truncated,
        exit: { code, signal },
        stderr,
        lastLine: watcher.lastLine,
        durationMs: Date.now() - started,
      });
    });

    if (child.pid) {
      track(child.pid);
      ctx.log(`started ${binary} (pid ${child.pid})`);
    }
    timers.push(
      setInterval(
        () => ctx.heartbeat({ phase: 'booting', elapsedMs: Date.now() - started, consoleLines: watcher.lines }),
        opts.heartbeatMs,
      ),
    );
    // the verdict may already be in when the time is up: it stands
    timers.push(setTimeout(() => terminate(watcher.verdict ? 'verdict' : 'timeout'), opts.timeoutMs));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function statusOf(run: VmRun, req: BootRequest): Pick<BootResult, 'status' | 'message'> {
  switch (run.outcome) {
    case 'verdict':
      return { status: run.verdict?.status ?? 'fail', message: run.verdict?.line ?? 'no verdict' };
    case 'timeout':
      return { status: 'fail', message: `boot timed out after ${Math.round(req.timeoutMs / 1000)}s` };
    case 'exited': {
      const how = run.exit.signal ? `was killed by ${run.exit.signal}` : `exited with status ${run.exit.code}`;
      const last = run.lastLine ? `; last console line: ${run.lastLine}` : '';
      return { status: 'fail', message: `QEMU ${how} before ${JSON.stringify(req.platform.successPattern)}${last}` };
    }
    case 'cancelled':
      throw new Error('a cancelled boot has no status');
  }
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
      const args = qemuArgs(arch, req.platform, files, this.opts.extraArgs);
      ctx.log(`${binary} ${args.join(' ')}`);
      const run = await runVm(binary, args, {
        cwd: dir,
        timeoutMs: req.timeoutMs,
        graceMs: this.graceMs,
        heartbeatMs: this.heartbeatMs,
        maxLogBytes: this.maxLogBytes,
        watcher: new ConsoleWatcher(req.platform),
        ctx,
      });
      if (run.outcome === 'cancelled') throw cancellationError(ctx.signal);
      if (run.outcome === 'exited' && run.console.length === 0 && run.exit.code !== 0 && run.stderr.trim()) {
        // QEMU refused to start (bad option, unreadable file): the lab's problem, not the kernel's
        throw new Error(`${binary} failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
      const body = run.truncated
        ? Buffer.concat([
            run.console,
            Buffer.from(`\n[bootfarm: console log truncated at ${this.maxLogBytes} bytes]\n`),
          ])
        : run.console;
      const log = await ctx.store.put(bootLogKey(req.bootKey), body, { contentType: 'text/plain; charset=utf-8' });
      return { ...statusOf(run, req), platform: req.platform.name, lab: req.lab, durationMs: run.durationMs, log };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
