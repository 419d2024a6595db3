/**
 * The reference: real `git bisect run` on a repository, with a script that
 * answers from lists of bad and untestable commits (what building and
 * booting would say) and counts its own invocations.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from '../../../plumbing/git/command';

export interface GitBisectOutcome {
  /** `<sha> is the first bad commit` */
  culprit?: string;
  /** "The first bad commit could be any of:" */
  suspects?: string[];
  /** commits the script was run on, in order */
  tested: string[];
}

const SCRIPT = `#!/bin/sh
h=$(git rev-parse BISECT_HEAD)
echo "$h" >> "$BF_ORACLE/tested"
grep -qx "$h" "$BF_ORACLE/skip" && exit 125
grep -qx "$h" "$BF_ORACLE/bad" && exit 1
exit 0
`;

/**
 * Runs `git bisect start --no-checkout <bad> <good>…` then `git bisect run`
 * in a throwaway clone (git bisect keeps its state in the repository).
 */
export async function gitBisectRun(
  repo: string,
  opts: { good: string[]; bad: string; badSet: Set<string>; skipSet?: Set<string> },
): Promise<GitBisectOutcome> {
  const work = await mkdtemp(join(tmpdir(), 'bf-gitbisect-'));
  try {
    const clone = join(work, 'repo.git');
    await runOk('git', ['clone', '-q', '--bare', '--shared', repo, clone]);
    await writeFile(join(work, 'bad'), [...opts.badSet].join('\n') + '\n');
    await writeFile(join(work, 'skip'), [...(opts.skipSet ?? [])].join('\n') + '\n');
    await writeFile(join(work, 'tested'), '');
    await writeFile(join(work, 'oracle.sh'), SCRIPT, { mode: 0o755 });
    const env = {
      ...process.env,
      BF_ORACLE: work,
      LC_ALL: 'C',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
    };
    await runOk('git', ['-C', clone, 'bisect', 'start', '--no-checkout', opts.bad, ...opts.good], { env });
    const r = await run('git', ['-C', clone, 'bisect', 'run', join(work, 'oracle.sh')], {
      env,
      captureLimit: 64 << 20,
    });
    const tested = (await readFile(join(work, 'tested'), 'utf8')).split('\n').filter(Boolean);
    const found = /^([0-9a-f]{40}) is the first bad commit$/m.exec(r.stdout);
    if (found) return { culprit: found[1], tested };
    const anyOf = /could be any of:\n((?:[0-9a-f]{40}\n)+)/.exec(r.stdout);
    if (anyOf) return { suspects: anyOf[1].trim().split('\n'), tested };
    throw new Error(`git bisect run ended without a verdict (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
