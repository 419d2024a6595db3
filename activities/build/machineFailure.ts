/**
 * Whether a failed make failed because of the machine, judged by what the
 * machine says rather than by what the build printed: a tree's Makefile can
 * print "No space left on device" or "internal compiler error: Killed" and
 * exit 1, and that is the tree's failure (a regression to report), not an
 * infrastructure error to retry and hide.
 */
import { readFile, statfs } from 'node:fs/promises';

/** Below this much free space a build directory's file system counts as full. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

/** The kernel's count of OOM kills so far (0 where /proc/vmstat has none). */
export async function oomKills(): Promise<number> {
  try {
    const m = /^oom_kill (\d+)$/m.exec(await readFile('/proc/vmstat', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The first of `dirs` whose file system is (nearly) full, with its free bytes. */
export async function fullFileSystem(dirs: string[]): Promise<{ dir: string; free: number } | undefined> {
  for (const dir of dirs) {
    try {
      const fs = await statfs(dir);
      const free = fs.bavail * fs.bsize;
      if (free < Math.max(MIN_FREE_BYTES, (fs.blocks * fs.bsize) / 100)) return { dir, free };
    } catch {
      /* a directory the build removed: nothing to judge */
    }
  }
  return undefined;
}

/** Why the machine, not the tree, failed a make, or undefined. */
export async function machineFailure(dirs: string[], oomKillsBefore: number): Promise<string | undefined> {
  const full = await fullFileSystem(dirs);
  if (full) return `the file system of ${full.dir} is full (${Math.round(full.free / 1024 / 1024)} MiB free)`;
  const kills = (await oomKills()) - oomKillsBefore;
  if (kills > 0) return `the kernel's OOM killer killed ${kills} process(es) during the build`;
  return undefined;
}
