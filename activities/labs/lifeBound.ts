/**
 * A program that stands for a board (QEMU, a lab's script) must not outlive
 * its boot by much, nor its lab worker at all. While the worker lives, its
 * own timers stop the program; but a worker that is SIGKILLed or OOM-killed
 * runs no exit hook, and the boot is retried elsewhere while the orphan
 * would keep its board (and a host core) busy.
 *
 * So the program runs under coreutils' `timeout`, started through
 * util-linux's `setpriv --pdeathsig TERM`: the kernel sends `timeout`
 * SIGTERM the moment the worker dies (Node cannot set PR_SET_PDEATHSIG on
 * its children itself), `timeout` passes it to the program's whole process
 * group and SIGKILLs the group 5 s later if needed; and `timeout` ends the
 * program after `limitMs` whatever happens.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';

/**
 * The executable's path, looked up like a shell would: on `path` (default:
 * this process's PATH), or relative to `cwd` for a name with a slash;
 * undefined when there is none.
 */
export async function findExecutable(
  name: string,
  opts: { path?: string; cwd?: string } = {},
): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [resolve(opts.cwd ?? '.', name)]
    : (opts.path ?? process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/** The host's wrappers, looked up once per worker process: they do not come and go between boots. */
let wrappers: Promise<{ timeout?: string; setpriv?: string }> | undefined;
function hostWrappers(): Promise<{ timeout?: string; setpriv?: string }> {
  wrappers ??= Promise.all([findExecutable('timeout'), findExecutable('setpriv')]).then(([timeout, setpriv]) => ({
    timeout,
    setpriv,
  }));
  return wrappers;
}

/** Grace between the SIGTERM `timeout` passes on and its SIGKILL. */
const KILL_AFTER_S = 5;

/**
 * The argv that runs `program` bound to this worker's life and to `limitMs`.
 * A program that cannot be found is returned unwrapped, so that spawning it
 * fails as it would have (ENOENT, EACCES) instead of becoming an exit status
 * of `timeout`. Without `timeout` or `setpriv` on the host, as much of the
 * binding as they allow.
 */
export async function lifeBound(
  program: string,
  args: string[],
  limitMs: number,
  /** where `program` is looked up: the PATH and working directory it will run with */
  opts: { path?: string; cwd?: string } = {},
): Promise<[string, string[]]> {
  const [resolved, { timeout, setpriv }] = await Promise.all([findExecutable(program, opts), hostWrappers()]);
  if (!resolved || !timeout) return [program, args];
  const bounded = [`--kill-after=${KILL_AFTER_S}`, `${Math.ceil(limitMs / 1000)}s`, resolved, ...args];
  if (!setpriv) return [timeout, bounded];
  return [setpriv, ['--pdeathsig', 'TERM', '--', timeout, ...bounded]];
}
