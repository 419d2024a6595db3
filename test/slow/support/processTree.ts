/**
 * The machine's process tree as /proc shows it, for tests that kill a
 * worker and then look for what it left behind.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** argv, split on NUL */
  argv: string[];
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    // the command name in parentheses may hold spaces and parentheses itself: fields resume after the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, ppid, argv };
  } catch {
    return undefined; // ended while we looked
  }
}

export function processes(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => readProcess(Number(p)))
    .filter((p): p is ProcessInfo => p !== undefined);
}

/** Every process below `pid` (children, their children, …). */
export function descendants(pid: number, table = processes()): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const parents = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // a zombie (state Z) has ended, only not been reaped yet
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once `pid` has ended; false when it is still alive after `timeoutMs`. */
export async function ended(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
