import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { findOnPath } from '../plumbing/tools';
import { waitFor } from './ports';

/**
 * A service process whose output goes to a log file and which is stopped
 * with its whole process group, so no orphan survives a Ctrl-C.
 */
export interface Service {
  name: string;
  child: ChildProcess;
  logFile: string;
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL to the whole group at once, as a crash or a pulled plug would end it. */
  kill(): Promise<void>;
  /** Started and not ended. */
  running(): boolean;
  exited: Promise<number | null>;
}

let setpriv: string | null | undefined;

/**
 * A service must not outlive the process that started it: `bootfarm up` or a
 * test run that is SIGKILLed (or crashes) runs no Ctrl-C handler. Through
 * util-linux's `setpriv --pdeathsig TERM` (which then execs the service, same
 * pid) the kernel sends the service SIGTERM when its starter dies; Node cannot
 * set PR_SET_PDEATHSIG on its children itself. Without setpriv, Ctrl-C still
 * stops everything.
 */
function boundToThisProcess(cmd: string, args: string[]): [string, string[]] {
  setpriv ??= findOnPath('setpriv');
  return setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
}

export interface ServiceOptions extends SpawnOptions {
  /**
   * argv put before the command, which execs it: say `ip netns exec NS` to
   * run the service on a host of netHosts.ts. With uid/gid, the prefix runs
   * as root and the command drops to them through setpriv afterwards
   * (entering a namespace needs root).
   */
  prefix?: string[];
}

export function startService(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  { prefix = [], ...opts }: ServiceOptions = {},
): Service {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  let command = [cmd, ...args];
  if (prefix.length && (opts.uid !== undefined || opts.gid !== undefined)) {
    // A change of uid clears the parent-death signal: set it again after the drop.
    const drop = [
      'setpriv',
      `--reuid=${opts.uid ?? 0}`,
      `--regid=${opts.gid ?? 0}`,
      '--clear-groups',
      '--pdeathsig',
      'TERM',
      '--',
    ];
    command = [...drop, ...command];
    delete opts.uid;
    delete opts.gid;
  }
  command = [...prefix, ...command];
  const [program, argv] = boundToThisProcess(command[0], command.slice(1));
  const child = spawn(program, argv, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Two pipes into one file: neither may end it (the other would write after its end); the child's close does.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  const running = () => child.exitCode === null && child.signalCode === null && !!child.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
      return true;
    } catch {
      return false; // already gone
    }
  };
  return {
    name,
    child,
    logFile,
    exited,
    running,
    async stop(timeoutMs = 10_000) {
      if (!running() || !signalGroup('SIGTERM')) return;
      const timer = setTimeout(() => signalGroup('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (running() && signalGroup('SIGKILL')) await exited;
    },
  };
}

export async function failedStart(service: Service, what: string): Promise<never> {
  const { readFileSync } = await import('node:fs');
  let tail = '';
  try {
    tail = readFileSync(service.logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    /* no log */
  }
  await service.stop(2000);
  throw new Error(`${what} did not start${tail ? `: ${tail}` : ''} (log: ${service.logFile})`);
}

/**
 * Waits until `probe` answers (see waitFor); when the service exits first or
 * the time is up, stops it and fails with the tail of its log (failedStart).
 */
export async function untilReady<T>(
  service: Service,
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs?: number,
): Promise<void> {
  try {
    await Promise.race([
      waitFor(what, probe, timeoutMs, intervalMs),
      service.exited.then((code) => {
        throw new Error(`exited with ${code}`);
      }),
    ]);
  } catch {
    await failedStart(service, what);
  }
}
