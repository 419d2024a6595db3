/**
 * Synthetic git histories for bisection tests and the benchmark: empty
 * commits written with `git fast-import` (10,000 commits in well under a
 * second), in a shape chosen by a seeded random generator — a line, or a
 * mainline with topic branches forked and merged back (merges on both sides
 * of any commit). The generator knows the graph, so a test can say which
 * commits descend from a chosen culprit (the "bad" ones) without asking git.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { runOk } from '../../../plumbing/git/command';

export interface SyntheticCommit {
  parents: number[];
  subject: string;
}

export interface SyntheticHistory {
  dir: string;
  /** commit i's sha; index 0 is the root */
  shas: string[];
  commits: SyntheticCommit[];
  /** the index of the head of master */
  head: number;
}

/** A small deterministic PRNG (mulberry32), so a failing seed reproduces. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DagShape {
  /** commits in all, the root included */
  size: number;
  /** chance that a commit forks a topic branch off mainline (0 = a line) */
  forkRate?: number;
  /** chance per commit that an open topic branch is merged into mainline */
  mergeRate?: number;
}

/**
 * The graph: mainline commits, topic branches forked from a recent mainline
 * commit, topic commits, and merges of topics back into mainline; at the end
 * every open topic is merged so master's head reaches every commit.
 */
export function randomDag(seed: number, shape: DagShape): SyntheticCommit[] {
  const rnd = prng(seed);
  const forkRate = shape.forkRate ?? 0;
  const mergeRate = shape.mergeRate ?? 0.3;
  const commits: SyntheticCommit[] = [{ parents: [], subject: 'c0 root' }];
  let main = 0;
  const topics: number[] = [];
  const add = (parents: number[], what: string) => {
    commits.push({ parents, subject: `c${commits.length} ${what}` });
    return commits.length - 1;
  };
  while (commits.length < shape.size) {
    const left = shape.size - commits.length;
    // room must remain to merge every open topic, so the last commit is on mainline and reaches all
    const spare = left > topics.length + 1;
    if (topics.length > 0 && (!spare || rnd() < mergeRate)) {
      const t = topics.splice(Math.floor(rnd() * topics.length), 1)[0];
      main = add([main, t], 'merge');
    } else if (spare && rnd() < forkRate) {
      const back = Math.floor(rnd() * Math.min(5, commits.length));
      topics.push(add([Math.max(0, main - back)], 'topic start'));
    } else if (spare && topics.length > 0 && rnd() < 0.5) {
      const i = Math.floor(rnd() * topics.length);
      topics[i] = add([topics[i]], 'topic');
    } else {
      main = add([main], 'mainline');
    }
  }
  return commits;
}

/** Writes the graph as a repository of empty commits (one second apart, in index order) with master at `head`. */
export async function writeHistory(
  dir: string,
  commits: SyntheticCommit[],
  head = commits.length - 1,
): Promise<SyntheticHistory> {
  await mkdir(dir, { recursive: true });
  await runOk('git', ['init', '-q', '--bare', dir]);
  const epoch = 1_600_000_000;
  const stream: string[] = [];
  commits.forEach((c, i) => {
    const msg = `${c.subject}\n`;
    stream.push(
      `commit refs/bootfarm-synthetic/c${i}`,
      `mark :${i + 1}`,
      `committer Synthetic <synthetic@example.org> ${epoch + i} +0000`,
    );
    stream.push(`data ${Buffer.byteLength(msg)}`, msg.slice(0, -1));
    if (c.parents.length > 0) stream.push(`from :${c.parents[0] + 1}`);
    for (const p of c.parents.slice(1)) stream.push(`merge :${p + 1}`);
    stream.push('');
  });
  stream.push(`reset refs/heads/master`, `from :${head + 1}`, '');
  const marks = `${dir}/synthetic.marks`;
  await runFastImport(dir, stream.join('\n'), marks);
  const markLines = (await readFile(marks, 'utf8')).split('\n').filter(Boolean);
  const shas: string[] = [];
  for (const line of markLines) {
    const [mark, sha] = line.split(' ');
    shas[Number(mark.slice(1)) - 1] = sha;
  }
  // only master is a ref; the per-commit refs were just fast-import's handles
  await runOk('git', ['-C', dir, 'for-each-ref', '--format=delete %(refname)', 'refs/bootfarm-synthetic/']).then((r) =>
    runStdin('git', ['-C', dir, 'update-ref', '--stdin'], r.stdout),
  );
  return { dir, shas, commits, head };
}

async function runFastImport(dir: string, input: string, marks: string): Promise<void> {
  await runStdin('git', ['-C', dir, 'fast-import', '--quiet', `--export-marks=${marks}`], input);
}

function runStdin(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`)),
    );
    child.stdin.end(input);
  });
}

/** Indexes of `from` and every commit that descends from it. */
export function descendants(commits: SyntheticCommit[], from: number): Set<number> {
  const out = new Set([from]);
  for (let i = from + 1; i < commits.length; i++) if (commits[i].parents.some((p) => out.has(p))) out.add(i);
  return out;
}

/** Indexes of `of` and every commit it reaches. */
export function ancestors(commits: SyntheticCommit[], of: number): Set<number> {
  const out = new Set<number>();
  const stack = [of];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (out.has(c)) continue;
    out.add(c);
    stack.push(...commits[c].parents);
  }
  return out;
}
