/**
 * Runs a program whose standard output is a board's console (a lab script,
 * an emulator): the console is watched for the platform's patterns and kept
 * for the boot log, the worker heartbeats meanwhile, and the program is
 * stopped — always with its whole process group — on timeout, on
 * cancellation, or (when asked) shortly after the console's verdict.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { BootContext } from './adapter';
import type { ConsoleVerdict, ConsoleWatcher } from './consoleWatcher';
import { lifeBound } from './lifeBound';

export type ConsoleProcessOutcome = 'verdict' | 'timeout' | 'exited' | 'cancelled';

export interface ConsoleProcessRun {
  /** verdict: stopped after the console's verdict; exited: the program ended by itself */
  outcome: ConsoleProcessOutcome;
  /** stopped at the end of testsMs after a pass verdict: the tests had not finished */
  testsStopped?: boolean;
  verdict?: ConsoleVerdict;
  console: Buffer;
  truncated: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
  lastLine: string;
  durationMs: number;
}

export interface ConsoleProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  heartbeatMs: number;
  maxLogBytes: number;
  watcher: ConsoleWatcher;
  ctx: Pick<BootContext, 'heartbeat' | 'signal' | 'log'>;
  /** stop the program this long after the console's verdict; default: let it end by itself */
  stopAfterVerdictMs?: number;
  /**
   * A boot with tests after its marker: after a pass verdict the program
   * runs on for up to this long (instead of stopAfterVerdictMs and the boot
   * timeout), and is stopped then if it has not ended by itself.
   */
  testsMs?: number;
}

/** Process groups alive in this worker; killed if the worker exits (a killed worker: see lifeBound.ts). */
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

/** Beyond its timeout and the stop's escalation, how long the program may live in any case. */
const LIFE_MARGIN_MS = 30_000;

/** Rejects only when the program cannot be started (ENOENT, EACCES). */
export async function runConsoleProcess(
  program: string,
  args: string[],
  opts: ConsoleProcessOptions,
): Promise<ConsoleProcessRun> {
  const { ctx, watcher } = opts;
  const limitMs =
    opts.timeoutMs + (opts.stopAfterVerdictMs ?? 0) + (opts.testsMs ?? 0) + STOP_ESCALATION_MS + LIFE_MARGIN_MS;
  const [command, argv] = await lifeBound(program, args, limitMs, {
    path: (opts.env ?? process.env).PATH,
    cwd: opts.cwd,
  });
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, argv, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let stderr = '';
    let ending: ConsoleProcessOutcome | undefined;
    let testsStopped = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const decoder = new StringDecoder('utf8');

    const terminate = (why: ConsoleProcessOutcome) => {
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
        ctx.log(`console verdict ${verdict.status}: ${verdict.line}`);
        if (settled) return; // the program has ended: nothing left to stop
        if (verdict.status === 'pass' && opts.testsMs !== undefined) {
          // the tests run after the marker: their own time replaces what was left of the boot's
          clearTimeout(bootTimer);
          ctx.log(`running the tests for up to ${Math.round(opts.testsMs / 1000)}s`);
          timers.push(
            setTimeout(() => {
              testsStopped = !ending;
              terminate('verdict');
            }, opts.testsMs),
          );
        } else if (opts.stopAfterVerdictMs !== undefined)
          timers.push(setTimeout(() => terminate('verdict'), opts.stopAfterVerdictMs));
      }
    };
    const onAbort = () => terminate('cancelled');
    const finish = () => {
      settled = true;
      timers.forEach(clearTimeout);
      ctx.signal.removeEventListener('abort', onAbort);
      if (child.pid) running.delete(child.pid);
    };

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
      for (const line of text.split('\n')) if (line.trim()) ctx.log(`${program}: ${line.trim()}`);
    });
    child.once('error', (err) => {
      if (settled) return;
      finish();
      reject(err);
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      finish();
      observe(decoder.end());
      const verdict = watcher.end();
      resolve({
        outcome: ending ?? 'exited',
        ...(testsStopped ? { testsStopped } : {}),
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
      ctx.log(`started ${program} (pid ${child.pid})`);
    }
    timers.push(
      setInterval(
        () => ctx.heartbeat({ phase: 'booting', elapsedMs: Date.now() - started, consoleLines: watcher.lines }),
        opts.heartbeatMs,
      ),
    );
    // data events, which clear it, come only after this synchronous set-up
    const bootTimer = setTimeout(() => terminate('timeout'), opts.timeoutMs);
    timers.push(bootTimer);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The console as stored: a note at the end says when it was cut. */
export function storedConsole(run: Pick<ConsoleProcessRun, 'console' | 'truncated'>, maxLogBytes: number): Buffer {
  return run.truncated
    ? Buffer.concat([run.console, Buffer.from(`\n[bootfarm: console log truncated at ${maxLogBytes} bytes]\n`)])
    : run.console;
}

/** Signals that end a program from outside: the kernel's OOM killer, an operator's kill, a host shutdown. */
const OUTSIDE_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);

const signalName = (n: number): string | undefined => Object.entries(constants.signals).find(([, v]) => v === n)?.[0];

/**
 * The signal that ended the program from outside the boot, if one did: not
 * one this module sent (timeout, cancellation, verdict), and not a crash of
 * the program's own (SIGSEGV, SIGABRT). Seen as the program's death by the
 * signal (also through the life-binding `timeout`, which dies by its child's
 * signal), or, for a program that catches it and exits, as `terminating on
 * signal N` on its standard error (QEMU).
 */
export function outsideSignal(run: Pick<ConsoleProcessRun, 'outcome' | 'exit' | 'stderr'>): string | undefined {
  if (run.outcome !== 'exited') return undefined;
  if (run.exit.signal) return OUTSIDE_SIGNALS.has(run.exit.signal) ? run.exit.signal : undefined;
  const caught = /terminating on signal (\d+)/.exec(run.stderr);
  const name = caught ? signalName(Number(caught[1])) : undefined;
  return name && OUTSIDE_SIGNALS.has(name) ? name : undefined;
}
