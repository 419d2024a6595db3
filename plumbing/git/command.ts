import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  /** the child's whole environment (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr as they arrive, interleaved (a build log) */
  onOutput?: (chunk: Buffer) => void;
  /** bytes of stdout and of stderr kept in the result, the last ones (default 1 MiB) */
  captureLimit?: number;
  /** aborting kills the child's process group */
  signal?: AbortSignal;
  /** between SIGTERM and SIGKILL when aborting (default 5 s); 0: SIGKILL at once */
  killGraceMs?: number;
  timeoutMs?: number;
  /** open descriptors the child inherits as fd 3, 4, … (a held file lock stays held while it runs) */
  inheritFds?: number[];
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the run ended because of opts.signal or opts.timeoutMs */
  aborted: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    const tail =
      result.stderr.trim().split('\n').slice(-3).join(' | ') || result.stdout.trim().split('\n').slice(-1)[0] || '';
    const how = result.aborted
      ? 'was stopped'
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with ${result.code}`;
    super(`${argv.join(' ')} ${how}${tail ? `: ${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** The executable could not be started at all (not installed, not executable). */
export class CommandNotFoundError extends Error {
  constructor(
    readonly cmd: string,
    cause: Error,
  ) {
    super(`cannot run ${cmd}: ${cause.message}`, { cause });
    this.name = 'CommandNotFoundError';
  }
}

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  toString() {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

const KILL_GRACE_MS = 5000;

/**
 * Run a program with an argv array (never a shell) in its own process group,
 * so that cancelling kills make and every compiler under it. Resolves with the
 * exit status; rejects only when the program cannot be started.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const limit = opts.captureLimit ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', ...(opts.inheritFds ?? [])],
      detached: true,
    });
    const out = new Tail(limit);
    const err = new Tail(limit);
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (aborted || !child.pid || child.exitCode !== null) return;
      aborted = true;
      const group = -child.pid;
      const signalGroup = (sig: NodeJS.Signals) => {
        try {
          process.kill(group, sig);
        } catch {
          /* already gone */
        }
      };
      if (opts.killGraceMs === 0) {
        signalGroup('SIGKILL');
        return;
      }
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? KILL_GRACE_MS);
    };
    const timeout = opts.timeoutMs ? setTimeout(kill, opts.timeoutMs) : undefined;
    if (opts.signal?.aborted) kill();
    opts.signal?.addEventListener('abort', kill);
    const cleanup = () => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', kill);
    };
    child.stdout!.on('data', (c: Buffer) => {
      out.push(c);
      opts.onOutput?.(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      err.push(c);
      opts.onOutput?.(c);
    });
    child.once('error', (e) => {
      cleanup();
      reject(new CommandNotFoundError(cmd, e));
    });
    child.once('close', (code, signal) => {
      cleanup();
      resolve({ code, signal, stdout: out.toString(), stderr: err.toString(), aborted });
    });
  });
}

/** run(), but a non-zero exit is a CommandError. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CommandError([cmd, ...args], r);
  return r;
}
