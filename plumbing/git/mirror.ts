import { existsSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assertName, BRANCH_PATTERN, InvalidNameError, SHA_PATTERN } from '../../domain/names';
import { ErrorType, nonRetryable, RetryableErrorType, retryable } from '../../domain/errors';
import { CommandError, runOk, type RunOptions } from './command';
import { tryFileLock, withFileLock } from './fileLock';
import type { CommitInfo } from '../../domain/types';

/** A commit as named on a command line: a (short or full) sha, or a branch or tag name. */
export const REF_PATTERN = BRANCH_PATTERN;

/**
 * Fetchable repository URLs: http(s)/git/ssh/file URLs, scp-like
 * `user@host:path`, or an absolute local path. No leading '-' (option
 * injection) and no `ext::`-style transports that run commands.
 */
export const URL_PATTERN =
  /^(?:(?:https?|git|ssh|file):\/\/[^\s'"`\\]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s'"`\\:][^\s'"`\\]*|\/[^\s'"`\\]*)$/;

/** Check names before they reach a command line; bad input is recorded at once, never retried. */
export function validated<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof InvalidNameError) throw nonRetryable(ErrorType.invalidInput, `${what}: ${e.message}`, e);
    throw e;
  }
}

export const assertTree = (tree: string) => validated('tree', () => assertName('tree name', tree));
export const assertBranch = (branch: string) => validated('branch', () => assertName('branch', branch, BRANCH_PATTERN));
export const assertRef = (ref: string) => validated('ref', () => assertName('ref', ref, REF_PATTERN));
export const assertSha = (sha: string) => validated('commit', () => assertName('commit sha', sha, SHA_PATTERN));
export const assertUrl = (url: string) => validated('url', () => assertName('repository url', url, URL_PATTERN));

/** Git without prompts (a missing password fails instead of hanging) and with messages in English. */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
}

/** Run git; stdout on success, CommandError otherwise. */
export async function git(args: string[], opts: Omit<RunOptions, 'env'> = {}): Promise<string> {
  const r = await runOk('git', args, { ...opts, env: gitEnv() });
  return r.stdout;
}

// Checked first: these say the network or the server failed, whatever else follows.
const TRANSIENT =
  /could not resolve host|connection (refused|reset|timed out|closed)|operation timed out|early eof|rpc failed|returned error: 5\d\d|temporary failure|network is unreachable|hung up unexpectedly|unable to create .*\.lock|cannot lock ref/i;
const BAD_REPOSITORY =
  /does not appear to be a git repository|repository .* (not found|does not exist)|not found|not a git repository|authentication failed|could not read (username|password)|permission denied|returned error: 40[134]|unable to find remote helper|is not supported|not allowed|could not read from remote repository/i;

/**
 * A failed clone, fetch or ls-remote: bad input (never retried) or a passing
 * failure (retried). `what` names the subject for the message ("tree demo").
 */
export function fetchFailure(what: string, url: string, e: unknown): Error {
  if (!(e instanceof CommandError)) return e instanceof Error ? e : new Error(String(e));
  const said = `${e.result.stderr}\n${e.result.stdout}`;
  const detail = said.trim().split('\n').slice(-2).join(' | ');
  if (e.result.aborted || TRANSIENT.test(said))
    return retryable(RetryableErrorType.gitTransient, `${what}: fetching ${url} failed (will retry): ${detail}`, e);
  if (BAD_REPOSITORY.test(said))
    return nonRetryable(ErrorType.repositoryUnavailable, `${what}: cannot fetch ${url}: ${detail}`, e);
  return retryable(RetryableErrorType.gitTransient, `${what}: fetching ${url} failed: ${detail}`, e);
}

export function mirrorPath(mirrorDir: string, tree: string): string {
  return join(mirrorDir, `${assertTree(tree)}.git`);
}

/** Held while the mirror is cloned or fetched, or a worktree is added to it. */
export function mirrorLockPath(mirrorDir: string, tree: string): string {
  return join(mirrorDir, `${assertTree(tree)}.lock`);
}

/** Where a clone of the tree's mirror is made before it is renamed into place. */
function cloneTempPath(mirrorDir: string, tree: string): string {
  return `${mirrorPath(mirrorDir, tree)}.tmp-${process.pid}`;
}

const CLONE_TEMP = /^([A-Za-z0-9][A-Za-z0-9._+-]{0,63})\.git\.tmp-\d+$/;

/**
 * Remove the temporary directories of clones of `tree` that died mid-way.
 * Only while holding the mirror's lock: a live clone holds it for as long
 * as it runs, so every temporary directory seen then is a dead one's.
 */
async function removeDeadClones(mirrorDir: string, tree: string): Promise<string[]> {
  const names = await readdir(mirrorDir).catch(() => [] as string[]);
  const dead = names.filter((n) => CLONE_TEMP.exec(n)?.[1] === tree).map((n) => join(mirrorDir, n));
  for (const dir of dead) await rm(dir, { recursive: true, force: true });
  return dead;
}

/** Temporary directories of dead clones of any tree under `mirrorDir`; a tree being cloned or fetched now is left alone. */
export async function sweepDeadClones(mirrorDir: string): Promise<string[]> {
  const names = await readdir(mirrorDir).catch(() => [] as string[]);
  const trees = new Set(names.map((n) => CLONE_TEMP.exec(n)?.[1]).filter((t): t is string => !!t));
  const removed: string[] = [];
  for (const tree of trees) {
    const lock = await tryFileLock(mirrorLockPath(mirrorDir, tree));
    if (!lock) continue;
    try {
      removed.push(...(await removeDeadClones(mirrorDir, tree)));
    } finally {
      await lock.release();
    }
  }
  return removed;
}

/** The full sha of a commit-ish in `repo`, or null when it does not exist there. */
export async function resolveCommit(repo: string, ref: string): Promise<string | null> {
  assertRef(ref.replace(/^refs\/(heads|tags)\//, ''));
  try {
    return (await git(['-C', repo, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim();
  } catch (e) {
    if (e instanceof CommandError && e.result.code === 1) return null;
    throw e;
  }
}

/**
 * The tree's bare mirror under `mirrorDir`, cloned on first use and fetched
 * (with prune) afterwards; one clone or fetch at a time per mirror, across
 * processes. With `want`, a mirror that already has that commit is not
 * fetched at all (a build or bisection step of a known commit).
 */
export async function ensureMirror(
  mirrorDir: string,
  tree: string,
  url: string,
  opts: { want?: string; signal?: AbortSignal } = {},
): Promise<string> {
  const path = mirrorPath(mirrorDir, tree);
  assertUrl(url);
  if (opts.want) assertRef(opts.want);
  const hasWanted = async () =>
    !!opts.want && existsSync(join(path, 'HEAD')) && (await resolveCommit(path, opts.want)) !== null;
  if (await hasWanted()) return path;
  await withFileLock(
    mirrorLockPath(mirrorDir, tree),
    async (lock) => {
      if (await hasWanted()) return; // fetched by whoever held the lock before us
      const run = { signal: opts.signal, inheritFds: [lock.fd] };
      await removeDeadClones(mirrorDir, tree);
      try {
        if (!existsSync(join(path, 'HEAD'))) {
          // Clone beside it and rename, so an interrupted clone never looks like a mirror.
          const tmp = cloneTempPath(mirrorDir, tree);
          await git(['clone', '--mirror', '--quiet', url, tmp], run);
          // A detached gc would outlive the fetch while holding the lock.
          await git(['-C', tmp, 'config', 'gc.autoDetach', 'false'], run);
          await rename(tmp, path);
          return;
        }
        const current = (await git(['-C', path, 'config', '--get', 'remote.origin.url'], run)).trim();
        if (current !== url) await git(['-C', path, 'remote', 'set-url', 'origin', url], run);
        await git(['-C', path, 'fetch', '--prune', '--quiet', 'origin'], run);
      } catch (e) {
        throw fetchFailure(`tree ${tree}`, url, e);
      }
    },
    { signal: opts.signal },
  );
  return path;
}

export type { CommitInfo };

export async function commitInfo(repo: string, sha: string): Promise<CommitInfo> {
  assertSha(sha);
  const [shown, describe] = await Promise.all([
    git(['-C', repo, 'show', '-s', '--format=%H%x00%s%x00%an%x00%ae%x00%cI', sha]),
    git(['-C', repo, 'describe', '--always', '--tags', sha]),
  ]);
  const [full, subject, author, authorEmail, committedAt] = shown.trim().split('\0');
  return { sha: full, describe: describe.trim(), subject, author, authorEmail, committedAt };
}
