/**
 * The steps of a bisection in `git bisect log` form, so a maintainer can read
 * them as usual and `git bisect replay` them. Each commit is marked with its
 * final verdict (after any re-test); re-tests are comments, and so is a bad
 * commit set aside because a good one descends from it (a history that is
 * not monotonic), which git bisect could not replay. Pure.
 */
import type { BisectRange, BisectStep } from '../../domain/bisect';
import { stepVotes, verdicts } from './evidence';
import { votesText } from './judge';

export type BisectConclusion =
  | { kind: 'found'; sha: string; subject: string }
  | { kind: 'only-skipped'; suspects: { sha: string; subject: string }[] }
  | { kind: 'none' };

const mark = (word: string, sha: string, subject: string) => [
  `# ${word}: [${sha}] ${subject}`,
  `git bisect ${word} ${sha}`,
];

/** One round's lines: good and skip first, then bad ones, the one the search kept last. */
function roundLines(steps: BisectStep[], aside: ReadonlySet<string>): string[] {
  const word = { good: 'good', bad: 'bad', skip: 'skip' } as const;
  const bads = steps.filter((s) => s.verdict === 'bad').sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0));
  return [...steps.filter((s) => s.verdict !== 'bad'), ...bads].flatMap((s) =>
    aside.has(s.sha)
      ? [`# bad, set aside (a good commit descends from it): [${s.sha}] ${s.subject}`]
      : mark(word[s.verdict], s.sha, s.subject),
  );
}

const retestLine = (s: BisectStep) => `# re-tested: [${s.sha}] ${s.subject}: ${votesText(stepVotes(s))}: ${s.verdict}`;

export function formatBisectLog(
  range: BisectRange,
  steps: BisectStep[],
  conclusion: BisectConclusion,
  setAside: string[] = [],
): string {
  const lines = [
    'git bisect start',
    '# status: waiting for both good and bad commits',
    ...mark('bad', range.bad, range.badSubject),
  ];
  lines.push('# status: waiting for good commit(s), bad commit known');
  if (range.fromMergeBase)
    lines.push(`# ${range.givenGood} is not an ancestor of the bad commit: bisecting from the merge base`);
  range.good.forEach((g, i) => lines.push(...mark('good', g, range.goodSubjects[i] ?? '')));
  const final = verdicts(steps);
  const aside = new Set(setAside);
  const rounds = [...new Set(steps.filter((s) => s.role === 'candidate').map((s) => s.round))].sort((a, b) => a - b);
  for (const r of rounds) {
    const candidates = steps
      .filter((s) => s.role === 'candidate' && s.round === r)
      .map((s) => ({ ...s, verdict: final.get(s.sha) ?? s.verdict }));
    lines.push(...roundLines(candidates, aside));
    lines.push(...steps.filter((s) => s.role === 'retest' && s.round === r).map(retestLine));
  }
  if (conclusion.kind === 'found') lines.push(`# first bad commit: [${conclusion.sha}] ${conclusion.subject}`);
  if (conclusion.kind === 'only-skipped') {
    lines.push('# only skipped commits left to test');
    for (const s of conclusion.suspects) lines.push(`# possible first bad commit: [${s.sha}] ${s.subject}`);
  }
  return lines.join('\n') + '\n';
}
