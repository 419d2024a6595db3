/**
 * Another commit's code beside this one, to measure before and after in one
 * run: `git archive` of some folders at a ref into a directory, with this
 * checkout's node_modules linked in, so its modules can be required.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

export function codeAt(ref: string, folders: string[], into: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: REPO,
    encoding: 'utf8',
  }).trim();
  mkdirSync(into, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', commit, ...folders], { cwd: REPO, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', into], { input: tar });
  symlinkSync(join(REPO, 'node_modules'), join(into, 'node_modules'));
  return { dir: into, commit };
}
