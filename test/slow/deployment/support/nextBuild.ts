/**
 * A new build of the worker code, as an operator deploys it: a copy of this
 * checkout (its files as they are now, node_modules shared) in which the
 * revisionPipeline workflow has changed — guarded by `patched()`, as every
 * change to a running workflow's code must be. The change sits after the
 * builds and boots: a revision that this build carries past that point
 * records the patch marker, even one the old build started; replaying a
 * history from before the point, the new build takes the old path.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../../../plumbing/tools';

export const NEXT_BUILD_PATCH = 'deployment-test-next-build';

const FILE = join('workflows', 'revisionPipeline.ts');
const ANCHOR = '  const counts = countResults(results);\n';
const CHANGE = `  if (patched('${NEXT_BUILD_PATCH}')) setCurrentDetails(\`\${rev.describe}: every build and boot is in (next build)\`);
`;

/** Copies the checkout to `dir` with the changed workflow; returns the copy's root. */
export function makeNextBuild(dir: string): string {
  const files = execFileSync(
    'git',
    ['-C', PROJECT_ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      encoding: 'utf8',
    },
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
  const workflow = join(dir, FILE);
  const source = readFileSync(workflow, 'utf8');
  const imports = '  isCancellation,\n';
  if (!source.includes(ANCHOR) || !source.includes(imports))
    throw new Error(`${FILE} changed: no line ${JSON.stringify(ANCHOR)} or ${JSON.stringify(imports)}`);
  writeFileSync(workflow, source.replace(ANCHOR, CHANGE + ANCHOR).replace(imports, `${imports}  patched,\n`));
  return dir;
}
