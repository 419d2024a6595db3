/**
 * Regression tracking: each series (tree, branch, build config, platform) of a
 * revision is compared with the same series on the earlier tested revisions
 * of the branch (revisions.started_at order).
 *
 * A series' verdict at a revision:
 * - build: the build's status if pass or fail;
 * - boot: per lab, the status of the latest run that gave a verdict (so a
 *   confirmation re-run, `run` > 0, that passes clears a lab glitch); labs that
 *   agree give the verdict, labs that disagree give a conflict.
 * `offline`, `infra-error`, `skip` and unfinished results give no verdict, and
 * conflicts are not tracked: the look back skips all of them to the last verdict.
 */
import type { Sql } from 'postgres';
import { ErrorType, nonRetryable } from '../../domain/errors';
import type {
  BootToConfirm,
  RegressionActivities,
  RevisionKey,
  SeriesClassification,
  SeriesKind,
} from '../../domain/reports';

/** How far back (in revisions) the look for the last pass goes before it trusts the regressions table instead. */
export const HISTORY_REVISIONS = 200;
const DAY_MS = 86_400_000;

type Verdict = 'pass' | 'fail' | 'conflict' | null;

export interface SeriesKey {
  kind: SeriesKind;
  config: string;
  platform: string;
}

interface RevisionPoint {
  sha: string;
  startedAt: Date;
}

interface OpenRegression {
  lastGoodSha: string | null;
  firstBadSha: string;
  firstBadAt: Date;
}

export function seriesId(s: SeriesKey): string {
  return `${s.kind}\u0000${s.config}\u0000${s.platform}`;
}

function isVerdict(status: string): status is 'pass' | 'fail' {
  return status === 'pass' || status === 'fail';
}

export interface BootRun {
  lab: string;
  run: number;
  status: string;
}

/** Per lab, the latest run with a verdict decides; labs that disagree make a conflict. */
export function bootVerdict(runs: BootRun[]): Verdict {
  const byLab = new Map<string, { run: number; status: 'pass' | 'fail' }>();
  for (const r of runs) {
    if (!isVerdict(r.status)) continue;
    const seen = byLab.get(r.lab);
    if (!seen || r.run > seen.run) byLab.set(r.lab, { run: r.run, status: r.status });
  }
  const verdicts = new Set([...byLab.values()].map((v) => v.status));
  if (verdicts.size === 2) return 'conflict';
  return verdicts.size === 1 ? [...verdicts][0] : null;
}

/**
 * Classify a series from its verdict now and its verdicts on earlier
 * revisions (newest first). `open` is the unfixed regression recorded for the
 * series, used when the failure started before the history looked at.
 */
export function classifySeries(
  key: SeriesKey,
  current: RevisionPoint & { verdict: Verdict },
  earlier: (RevisionPoint & { verdict: Verdict })[],
  open: OpenRegression | null,
): SeriesClassification | null {
  const base = { ...key, lastGoodSha: null, firstBadSha: null, since: null, failingDays: null };
  const days = (from: Date) => Math.floor((current.startedAt.getTime() - from.getTime()) / DAY_MS);
  const verdicts = earlier.filter(
    (e): e is RevisionPoint & { verdict: 'pass' | 'fail' } => e.verdict === 'pass' || e.verdict === 'fail',
  );
  const previous = verdicts[0];

  if (current.verdict === 'conflict') return { ...base, state: 'conflict' };
  if (current.verdict === 'pass') {
    if (previous?.verdict !== 'fail' && !open) return null;
    const streak = failingStreak(verdicts);
    return {
      ...base,
      state: 'fixed',
      lastGoodSha: streak.lastGood?.sha ?? open?.lastGoodSha ?? null,
      firstBadSha: open?.firstBadSha ?? streak.firstBad?.sha ?? null,
    };
  }
  if (current.verdict !== 'fail') return null;

  const streak = failingStreak(verdicts);
  if (streak.lastGood && !streak.firstBad) {
    return {
      ...base,
      state: 'new-regression',
      lastGoodSha: streak.lastGood.sha,
      firstBadSha: current.sha,
      since: current.startedAt.toISOString(),
      failingDays: 0,
    };
  }
  if (streak.lastGood && streak.firstBad) {
    const firstBad = streak.firstBad;
    return {
      ...base,
      state: 'still-failing',
      lastGoodSha: streak.lastGood.sha,
      firstBadSha: firstBad.sha,
      since: firstBad.startedAt.toISOString(),
      failingDays: days(firstBad.startedAt),
    };
  }
  if (open) {
    return {
      ...base,
      state: 'still-failing',
      lastGoodSha: open.lastGoodSha,
      firstBadSha: open.firstBadSha,
      since: open.firstBadAt.toISOString(),
      failingDays: days(open.firstBadAt),
    };
  }
  const firstSeen = streak.firstBad ?? current;
  return {
    ...base,
    state: 'no-history',
    firstBadSha: firstSeen.sha,
    since: firstSeen.startedAt.toISOString(),
    failingDays: days(firstSeen.startedAt),
  };
}

/** Walking back over verdicts (newest first): the earliest fail of the run of fails, and the pass before it. */
function failingStreak<T extends { verdict: 'pass' | 'fail' }>(verdicts: T[]): { firstBad?: T; lastGood?: T } {
  let firstBad: T | undefined;
  for (const v of verdicts) {
    if (v.verdict === 'pass') return { firstBad, lastGood: v };
    firstBad = v;
  }
  return { firstBad };
}

interface Loaded {
  current: RevisionPoint;
  earlier: RevisionPoint[];
  series: Map<string, SeriesKey>;
  /** seriesId → sha → verdict */
  verdicts: Map<string, Map<string, Verdict>>;
  open: Map<string, OpenRegression>;
  /** boot seriesId → its runs at the current revision */
  currentRuns: Map<string, BootRun[]>;
}

/** Asking about a revision the pipeline never recorded is a caller's mistake that no retry fixes. */
export function unrecordedRevision(rev: RevisionKey) {
  return nonRetryable(ErrorType.invalidInput, `revision ${rev.tree}/${rev.branch} ${rev.sha} is not recorded`);
}

async function load(sql: Sql, rev: RevisionKey, historyLimit = HISTORY_REVISIONS): Promise<Loaded> {
  const [cur] = await sql<{ id: string; started_at: Date }[]>`
    select id, started_at from revisions where tree = ${rev.tree} and branch = ${rev.branch} and sha = ${rev.sha}`;
  if (!cur) throw unrecordedRevision(rev);
  const earlierRows = await sql<{ sha: string; started_at: Date }[]>`
    select sha, started_at from revisions
    where tree = ${rev.tree} and branch = ${rev.branch} and (started_at, id) < (${cur.started_at}, ${cur.id})
    order by started_at desc, id desc limit ${historyLimit}`;
  const shas = [rev.sha, ...earlierRows.map((r) => r.sha)];

  const builds = await sql<{ sha: string; config: string; status: string }[]>`
    select sha, config, status from builds
    where tree = ${rev.tree} and sha = any(${shas})
      and config in (select config from builds where tree = ${rev.tree} and sha = ${rev.sha})`;
  const boots = await sql<
    { sha: string; config: string; platform: string; lab: string; run: number; status: string }[]
  >`
    select sha, config, platform, lab, run, status from boots
    where tree = ${rev.tree} and sha = any(${shas})
      and (config, platform) in (select config, platform from boots where tree = ${rev.tree} and sha = ${rev.sha})`;
  const openRows = await sql<
    {
      kind: SeriesKind;
      config: string;
      platform: string;
      last_good_sha: string | null;
      first_bad_sha: string;
      first_bad_at: Date;
    }[]
  >`
    select distinct on (kind, config, platform) kind, config, platform, last_good_sha, first_bad_sha, first_bad_at
    from regressions where tree = ${rev.tree} and branch = ${rev.branch} and state <> 'fixed'
    order by kind, config, platform, first_bad_at desc`;

  const series = new Map<string, SeriesKey>();
  const verdicts = new Map<string, Map<string, Verdict>>();
  const setVerdict = (key: SeriesKey, sha: string, v: Verdict) => {
    const id = seriesId(key);
    if (sha === rev.sha) series.set(id, key);
    if (!verdicts.has(id)) verdicts.set(id, new Map());
    verdicts.get(id)!.set(sha, v);
  };
  for (const b of builds)
    setVerdict({ kind: 'build', config: b.config, platform: '' }, b.sha, isVerdict(b.status) ? b.status : null);

  const runsBySeriesSha = new Map<string, { key: SeriesKey; sha: string; runs: BootRun[] }>();
  for (const b of boots) {
    const key: SeriesKey = { kind: 'boot', config: b.config, platform: b.platform };
    const id = `${seriesId(key)}\u0000${b.sha}`;
    if (!runsBySeriesSha.has(id)) runsBySeriesSha.set(id, { key, sha: b.sha, runs: [] });
    runsBySeriesSha.get(id)!.runs.push({ lab: b.lab, run: b.run, status: b.status });
  }
  const currentRuns = new Map<string, BootRun[]>();
  for (const { key, sha, runs } of runsBySeriesSha.values()) {
    setVerdict(key, sha, bootVerdict(runs));
    if (sha === rev.sha) currentRuns.set(seriesId(key), runs);
  }

  const open = new Map<string, OpenRegression>();
  for (const r of openRows) {
    open.set(seriesId(r), { lastGoodSha: r.last_good_sha, firstBadSha: r.first_bad_sha, firstBadAt: r.first_bad_at });
  }
  return {
    current: { sha: rev.sha, startedAt: cur.started_at },
    earlier: earlierRows.map((r) => ({ sha: r.sha, startedAt: r.started_at })),
    series,
    verdicts,
    open,
    currentRuns,
  };
}

function openBefore(open: OpenRegression | undefined, sha: string): OpenRegression | null {
  return open && open.firstBadSha !== sha ? open : null;
}

function classifyLoaded(l: Loaded): SeriesClassification[] {
  const out: SeriesClassification[] = [];
  for (const [id, key] of l.series) {
    const byRev = l.verdicts.get(id)!;
    const c = classifySeries(
      key,
      { ...l.current, verdict: byRev.get(l.current.sha) ?? null },
      l.earlier.map((e) => ({ ...e, verdict: byRev.get(e.sha) ?? null })),
      // A row first bad at this very revision is what an earlier classification of it recorded, not history.
      openBefore(l.open.get(id), l.current.sha),
    );
    if (c) out.push(c);
  }
  const order = (c: SeriesClassification) => `${c.kind}\u0000${c.config}\u0000${c.platform}`;
  return out.sort((a, b) => order(a).localeCompare(order(b)));
}

/** Read-only: how every series of the revision stands (see SeriesState). */
export async function classifyRevision(
  sql: Sql,
  rev: RevisionKey,
  opts: { historyLimit?: number } = {},
): Promise<SeriesClassification[]> {
  return classifyLoaded(await load(sql, rev, opts.historyLimit));
}

async function record(sql: Sql, rev: RevisionKey, classified: SeriesClassification[]): Promise<void> {
  const failingNow = new Set(
    classified.filter((c) => c.state === 'new-regression' || c.state === 'still-failing').map(seriesId),
  );
  await sql.begin(async (tx) => {
    // A regression first seen at this revision that it no longer shows (a confirmation re-run passed) is withdrawn.
    const recordedHere = await tx<SeriesKey[]>`
      select kind, config, platform from regressions
      where tree = ${rev.tree} and branch = ${rev.branch} and first_bad_sha = ${rev.sha} and state <> 'fixed' and bisection_id is null`;
    for (const r of recordedHere.filter((r) => !failingNow.has(seriesId(r)))) {
      await tx`delete from regressions
               where tree = ${rev.tree} and branch = ${rev.branch} and kind = ${r.kind} and config = ${r.config}
                 and platform = ${r.platform} and first_bad_sha = ${rev.sha}`;
    }
    for (const c of classified) {
      if (c.state === 'new-regression' || c.state === 'still-failing') {
        // The unique key includes first_bad_sha, so every revision of one failure updates the same row.
        await tx`
          insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at, last_bad_sha)
          values (${rev.tree}, ${rev.branch}, ${c.kind}, ${c.config}, ${c.platform}, ${c.state === 'new-regression' ? 'new' : 'still-failing'},
                  ${c.lastGoodSha}, ${c.firstBadSha}, ${c.since}, ${rev.sha})
          on conflict (tree, branch, kind, config, platform, first_bad_sha) do update
            set state = excluded.state, last_bad_sha = excluded.last_bad_sha, updated_at = now()
            where regressions.state <> 'fixed'`;
      } else if (c.state === 'fixed') {
        await tx`
          update regressions set state = 'fixed', fixed_sha = ${rev.sha}, updated_at = now()
          where tree = ${rev.tree} and branch = ${rev.branch} and kind = ${c.kind} and config = ${c.config}
            and platform = ${c.platform} and state <> 'fixed'`;
      }
    }
  });
}

export function createRegressionActivities({ sql }: { sql: Sql }): RegressionActivities {
  return {
    async recordRegressions(rev) {
      const classified = await classifyRevision(sql, rev);
      await record(sql, rev, classified);
      return classified;
    },

    async candidateNewBootRegressions(rev, opts = {}) {
      const confirmations = opts.confirmations ?? 1;
      const l = await load(sql, rev);
      const out: BootToConfirm[] = [];
      for (const c of classifyLoaded(l)) {
        if (c.kind !== 'boot' || c.state !== 'new-regression') continue;
        const runs = l.currentRuns.get(seriesId(c)) ?? [];
        const lastRun = Math.max(...runs.map((r) => r.run));
        if (lastRun >= confirmations) continue;
        const failedLabs = [...new Set(runs.filter((r) => r.status === 'fail').map((r) => r.lab))].sort();
        out.push({ config: c.config, platform: c.platform, labs: failedLabs, run: lastRun + 1 });
      }
      return out;
    },
  };
}
