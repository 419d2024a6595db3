/**
 * The bisect workflow's engine without Temporal: the same engine
 * (workflows/bisect/engine.ts) on the same repository through the same
 * activity code (candidates, graph check, culprit), with a simulated board
 * standing in for build-boot children: an oracle says what each kernel
 * does, and a board may fail a good kernel's boot now and then. Used by the
 * property tests and the benchmarks to compare with `git bisect run`.
 */
import type { BisectVerdict, StepVerdict } from '../../../domain/bisect';
import type { Status } from '../../../domain/status';
import { computeCandidates } from '../../../activities/bisect/candidates';
import { readCulpritInfo } from '../../../activities/bisect/culprit';
import { checkGraph } from '../../../activities/bisect/graphCheck';
import { resolveBisectRange } from '../../../activities/bisect/range';
import { bisectEngine } from '../../../workflows/bisect/engine';
import { bootsUsed } from '../../../workflows/bisect/evidence';
import { DEFAULT_FLAKE_THRESHOLD } from '../../../domain/bisect';
import { initialSearchState, searchSteps } from '../../../workflows/bisect/search';
import type { BootBatch } from '../../../workflows/bisect/judgedTest';

export interface SimulatedBisection {
  culprit?: string;
  suspects?: string[];
  confirmed: boolean;
  verdict: BisectVerdict;
  /** candidates tested, in order */
  tested: string[];
  rounds: number;
  /** boots in all: endpoints, steps, re-tests, verify and revert */
  boots: number;
}

/** One boot on the board: what the kernel does, unless the board fails it anyway. */
export type Board = (kernel: 'pass' | 'fail', sha: string) => Status;
export const perfectBoard: Board = (kernel) => kernel;

export interface SimulationOptions {
  good: string;
  bad: string;
  k: number;
  /** what building and booting each commit says on a perfect board ('skip': it does not build) */
  oracle: (sha: string) => StepVerdict;
  board?: Board;
  /** boots per step as configured (default 1), the flake rate the bisection is told (default 0) */
  stepRuns?: number;
  flakeRate?: number;
  verifyRuns?: number;
}

const revertSha = (culprit: string) => `7e${culprit.slice(2)}`;

export async function simulateBisection(gitDir: string, opts: SimulationOptions): Promise<SimulatedBisection> {
  const board = opts.board ?? perfectBoard;
  const reverts = new Map<string, string>();
  const kernelOf = (sha: string): StepVerdict => {
    const culprit = reverts.get(sha);
    if (culprit === undefined) return opts.oracle(sha);
    // the bad commit with `culprit` reverted: good exactly when the culprit is the first bad commit
    const parentsGood = (readParents.get(culprit) ?? []).every((p) => opts.oracle(p) === 'good');
    return opts.oracle(culprit) === 'bad' && parentsGood ? 'good' : 'bad';
  };
  const readParents = new Map<string, string[]>();
  const engine = bisectEngine(
    {
      bisectId: 'sim',
      k: opts.k,
      stepRuns: opts.stepRuns ?? 1,
      flakeRate: opts.flakeRate ?? 0,
      flakeThreshold: DEFAULT_FLAKE_THRESHOLD,
      verifyRuns: opts.verifyRuns ?? 3,
    },
    {
      lab: {
        async boot(order): Promise<BootBatch> {
          const v = kernelOf(order.sha);
          if (v === 'skip') return { build: 'fail', message: 'does not build', boots: [] };
          const kernel = v === 'good' ? 'pass' : 'fail';
          return {
            build: 'pass',
            kernel: order.prebuilt ?? {
              build: { status: 'pass', warnings: 0, errors: 0, durationMs: 0, artifacts: {}, errorLines: [] },
            },
            boots: Array.from({ length: order.runs }, () => ({ status: board(kernel, order.sha), message: '' })),
          };
        },
      },
      candidates: (q) => computeCandidates(gitDir, q),
      graphCheck: (q) => checkGraph(gitDir, q),
      async culpritInfo(sha) {
        const info = await readCulpritInfo(gitDir, sha);
        readParents.set(sha, info.parents ?? []);
        return info;
      },
      async prepareRevert({ culprit }) {
        const sha = revertSha(culprit);
        reverts.set(sha, culprit);
        if (!readParents.has(culprit)) readParents.set(culprit, (await readCulpritInfo(gitDir, culprit)).parents ?? []);
        return { applied: true, sha, ref: `refs/sim/${sha}`, describe: sha.slice(0, 12) };
      },
      afterRound: async () => undefined,
      progress: () => undefined,
    },
  );
  let state = initialSearchState(await resolveBisectRange(gitDir, opts));
  const endpoints = await engine.checkEndpoints(state);
  state = endpoints.state;
  const done = endpoints.problem ? engine.invalid(state) : await engine.search(state);
  return {
    culprit: done.verdict.culprit?.sha,
    suspects: done.verdict.suspects,
    confirmed: done.verdict.confirmed,
    verdict: done.verdict,
    tested: searchSteps(done.state).map((s) => s.sha),
    rounds: done.state.round,
    boots: bootsUsed(done.state.steps),
  };
}
