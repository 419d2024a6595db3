import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { run } from './command';

export interface FileLock {
  readonly path: string;
  /** pass to run({ inheritFds: [lock.fd] }) so the lock stays held while that command (and its children) live */
  readonly fd: number;
  release(): Promise<void>;
}

/**
 * An exclusive flock(2) on `path`, shared by every process on this host
 * (workers, CLI, tests). Node has no flock, so util-linux's `flock` locks a
 * descriptor this process opened and passes down; the lock then belongs to
 * that open file, not to the flock process. The kernel drops it when the
 * last holder exits, so a killed worker never leaves a stale lock, while a
 * make it started keeps the build directory locked until that make is gone.
 */
export async function acquireFileLock(path: string, opts: { signal?: AbortSignal } = {}): Promise<FileLock> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'a');
  try {
    const r = await run('flock', ['--exclusive', '3'], { inheritFds: [handle.fd], signal: opts.signal });
    if (r.aborted) throw new Error(`gave up waiting for the lock ${path}`);
    if (r.code !== 0) throw new Error(`flock ${path} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return { path, fd: handle.fd, release: () => handle.close() };
}

const BUSY = 75;

/** The lock when nobody holds it, else null at once (a sweep skips what is in use instead of waiting for it). */
export async function tryFileLock(path: string): Promise<FileLock | null> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'a');
  try {
    const r = await run('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(BUSY), '3'], {
      inheritFds: [handle.fd],
    });
    if (r.code === 0) return { path, fd: handle.fd, release: () => handle.close() };
    if (r.code !== BUSY) throw new Error(`flock ${path} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  } catch (e) {
    await handle.close();
    throw e;
  }
  await handle.close();
  return null;
}

export async function withFileLock<T>(
  path: string,
  fn: (lock: FileLock) => Promise<T>,
  opts: { signal?: AbortSignal } = {},
): Promise<T> {
  const lock = await acquireFileLock(path, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
