/**
 * git on a tree's mirror for the bisection activities: the shared runner and
 * environment of plumbing/git, plus per-call environment (a revert's fixed
 * identity) and the whole of stdout (a rev-list of a large range).
 */
import { CommandError, runOk } from '../../plumbing/git/command';
import { gitEnv } from '../../plumbing/git/mirror';

export { CommandError };
export { isAncestor } from '../../plumbing/git/ancestry';

export interface GitOptions {
  /** a working tree to run in; by default git runs on the repository itself */
  cwd?: string;
  env?: Record<string, string>;
}

const WHOLE_OUTPUT = 1 << 30;

export async function git(repo: string, args: string[], opts: GitOptions = {}): Promise<string> {
  const argv = opts.cwd ? args : ['-C', repo, ...args];
  const r = await runOk('git', argv, { cwd: opts.cwd, env: { ...gitEnv(), ...opts.env }, captureLimit: WHOLE_OUTPUT });
  return r.stdout;
}
