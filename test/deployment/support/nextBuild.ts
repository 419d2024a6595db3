/**
 * A new build of the worker code, as an operator deploys it: a copy of this
 * checkout (its files as they are now, node_modules shared) with two
 * workflow changes, each guarded by `patched()` as every change to running
 * workflow code must be:
 *
 * - buildBoot waits a moment (a timer: a new command) after its build. A
 *   build-boot that the old build carried past that point is replayed by
 *   the new one without the timer, as its history says; unguarded, the
 *   replay would fail (non-determinism) and the run would stall.
 * - revisionPipeline notes that every result is in. A revision that the new
 *   build carries past that point records the patch marker in its history,
 *   however far the old build had taken it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../../plumbing/tools';

export const NEXT_BUILD_PATCH = 'deployment-test-next-build';

interface Edit {
  file: string;
  /** the line the change goes before */
  anchor: string;
  change: string;
  imports: string[];
}

const EDITS: Edit[] = [
  {
    file: join('workflows', 'buildBoot.ts'),
    anchor: '  const buildId = await records.recordBuild(',
    change: `  if (patched('${NEXT_BUILD_PATCH}')) await sleep(1);\n`,
    imports: ['patched', 'sleep'],
  },
  {
    file: join('workflows', 'revisionPipeline.ts'),
    anchor: '  const counts = countResults(results);',
    change: `  if (patched('${NEXT_BUILD_PATCH}')) setCurrentDetails(\`\${rev.describe}: every result is in (next build)\`);\n`,
    imports: ['patched'],
  },
];

/** Applies one edit to the copy's file, or says which line it no longer finds. */
function edit(root: string, e: Edit): void {
  const path = join(root, e.file);
  const source = readFileSync(path, 'utf8');
  const importLine = '  isCancellation,\n';
  for (const needed of [e.anchor, importLine])
    if (!source.includes(needed)) throw new Error(`${e.file} changed: no line ${JSON.stringify(needed)}`);
  const imports = e.imports.map((i) => `  ${i},\n`).join('');
  writeFileSync(path, source.replace(e.anchor, e.change + e.anchor).replace(importLine, importLine + imports));
}

/** Copies the checkout to `dir` with the changed workflows; returns the copy's root. */
export function makeNextBuild(dir: string, edits: Edit[] = EDITS): string {
  const files = execFileSync(
    'git',
    ['-C', PROJECT_ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { encoding: 'utf8' },
  )
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(PROJECT_ROOT, f), join(dir, f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted in the working tree
    }
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const e of edits) edit(dir, e);
  return dir;
}
