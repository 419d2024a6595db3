/**
 * Regression tracking: each series (tree, branch, build config, platform) of a
 * revision is compared with the same series on the earlier tested revisions
 * of the branch (revisions.started_at order). Only the revisions' own results
 * count (scope ''): a bisection's builds and boots are its own.
 *
 * A series' verdict at a revision:
 * - build: the build's status if pass or fail;
 * - boot: per lab, the status of the latest run that gave a verdict (so a
 *   confirmation re-run, `run` > 0, decides); the series fails when any lab
 *   fails, and when another lab passes the same kernel the failure is
 *   lab-specific ("fails only in lab X").
 * `offline`, `infra-error`, `skip` and unfinished results give no verdict:
 * the look back skips them to the last verdict.
 *
 * A regression is one row from its first failure to its fix; a failure of
 * its series within REOPEN_WINDOW revisions after the fix reopens that row
 * (`failing-again`) instead of opening a new regression and a new bisection.
 * regression_history keeps its transitions.
 */
import type { Sql } from 'postgres';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { confirmationsNeeded, flakeEstimate } from '../../domain/flakiness';
import {
  REOPEN_WINDOW,
  type BootToConfirm,
  type RegressionActivities,
  type RevisionKey,
  type SeriesClassification,
  type SeriesKind,
} from '../../domain/reports';
import { flakeCounts, flakeKeyId, refreshFlakiness, seriesOfRevision } from './flakes';

/** How far back (in revisions) the look for the last pass goes before it trusts the regressions table instead. */
export const HISTORY_REVISIONS = 200;
const DAY_MS = 86_400_000;

type Verdict = 'pass' | 'fail' | null;

/** A series' verdict at one revision; for a boot series, which labs fail while another passes. */
export interface SeriesVerdict {
  verdict: Verdict;
  /** labs that fail while another lab passes the same kernel ([] when no lab passes) */
  onlyIn?: string[];
  /** the labs that pass, when some fail */
  passingIn?: string[];
}

export interface SeriesKey {
  kind: SeriesKind;
  config: string;
  platform: string;
}

interface RevisionPoint {
  sha: string;
  startedAt: Date;
}

/** A regressions row of the series, as classification needs it. */
export interface RegressionRow {
  lastGoodSha: string | null;
  firstBadSha: string;
  firstBadAt: Date;
  fixedSha?: string | null;
  /** the revision at which the row was reopened, while it is open again */
  reopenedSha?: string | null;
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

/** Per lab, the latest run with a verdict. */
export function labVerdicts(runs: BootRun[]): Map<string, 'pass' | 'fail'> {
  const byLab = new Map<string, { run: number; status: 'pass' | 'fail' }>();
  for (const r of runs) {
    if (!isVerdict(r.status)) continue;
    const seen = byLab.get(r.lab);
    if (!seen || r.run > seen.run) byLab.set(r.lab, { run: r.run, status: r.status });
  }
  return new Map([...byLab].map(([lab, v]) => [lab, v.status]));
}

/** Per lab, the latest run with a verdict decides; any failing lab fails the series, lab-specific when another passes. */
export function bootVerdict(runs: BootRun[]): SeriesVerdict {
  const byLab = labVerdicts(runs);
  if (!byLab.size) return { verdict: null };
  const labsWith = (v: 'pass' | 'fail') =>
    [...byLab]
      .filter(([, s]) => s === v)
      .map(([lab]) => lab)
      .sort();
  const failing = labsWith('fail');
  const passing = labsWith('pass');
  if (!failing.length) return { verdict: 'pass' };
  return passing.length ? { verdict: 'fail', onlyIn: failing, passingIn: passing } : { verdict: 'fail' };
}

/**
 * Classify a series from its verdict now and its verdicts on earlier
 * revisions (newest first). `open` is the unfixed regression recorded for the
 * series (first bad before this revision): a failure goes on as it, a pass
 * fixes it. `recentFix` is the series' regression fixed within the reopen
 * window: a new failure is that regression failing again.
 */
export function classifySeries(
  key: SeriesKey,
  current: RevisionPoint & SeriesVerdict,
  earlier: (RevisionPoint & { verdict: Verdict })[],
  open: RegressionRow | null,
  recentFix: RegressionRow | null = null,
): SeriesClassification | null {
  const labs = current.onlyIn?.length ? { onlyInLabs: current.onlyIn, passingInLabs: current.passingIn ?? [] } : {};
  const base = { ...key, lastGoodSha: null, firstBadSha: null, since: null, failingDays: null, ...labs };
  const days = (from: Date) => Math.floor((current.startedAt.getTime() - from.getTime()) / DAY_MS);
  const verdicts = earlier.filter(
    (e): e is RevisionPoint & { verdict: 'pass' | 'fail' } => e.verdict === 'pass' || e.verdict === 'fail',
  );
  const previous = verdicts[0];
  const ofRow = (row: RegressionRow) => ({
    lastGoodSha: row.lastGoodSha,
    firstBadSha: row.firstBadSha,
    since: row.firstBadAt.toISOString(),
    failingDays: days(row.firstBadAt),
  });

  if (current.verdict === 'pass') {
    // a reopening recorded at this very revision is withdrawn by its pass, not fixed by it
    const stillOpen = open?.reopenedSha === current.sha ? null : open;
    if (previous?.verdict !== 'fail' && !stillOpen) return null;
    const streak = failingStreak(verdicts);
    return {
      ...base,
      state: 'fixed',
      lastGoodSha: stillOpen?.lastGoodSha ?? streak.lastGood?.sha ?? null,
      firstBadSha: stillOpen?.firstBadSha ?? streak.firstBad?.sha ?? null,
    };
  }
  if (current.verdict !== 'fail') return null;

  // Reopened at this very revision (an earlier classification of it recorded that): it fails again here.
  if (open?.reopenedSha === current.sha)
    return { ...base, state: 'failing-again', ...ofRow(open), fixedSha: open.fixedSha };
  if (open) return { ...base, state: 'still-failing', ...ofRow(open) };

  const streak = failingStreak(verdicts);
  if (streak.lastGood && !streak.firstBad) {
    if (recentFix) return { ...base, state: 'failing-again', ...ofRow(recentFix), fixedSha: recentFix.fixedSha };
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
  verdicts: Map<string, Map<string, SeriesVerdict>>;
  open: Map<string, RegressionRow>;
  /** seriesId → its regression fixed within the reopen window */
  recentFix: Map<string, RegressionRow>;
  /** boot seriesId → its runs at the current revision */
  currentRuns: Map<string, BootRun[]>;
}

/** Asking about a revision the pipeline never recorded is a caller's mistake that no retry fixes. */
export function unrecordedRevision(rev: RevisionKey) {
  return nonRetryable(ErrorType.invalidInput, `revision ${rev.tree}/${rev.branch} ${rev.sha} is not recorded`);
}

interface RegressionDbRow {
  kind: SeriesKind;
  config: string;
  platform: string;
  last_good_sha: string | null;
  first_bad_sha: string;
  first_bad_at: Date;
  fixed_sha: string | null;
  reopened_sha: string | null;
}

const toRegressionRow = (r: RegressionDbRow): RegressionRow => ({
  lastGoodSha: r.last_good_sha,
  firstBadSha: r.first_bad_sha,
  firstBadAt: r.first_bad_at,
  fixedSha: r.fixed_sha,
  reopenedSha: r.reopened_sha,
});

async function load(sql: Sql, rev: RevisionKey, historyLimit = HISTORY_REVISIONS): Promise<Loaded> {
  const [cur] = await sql<{ id: string; started_at: Date }[]>`
    select id, started_at from revisions where tree = ${rev.tree} and branch = ${rev.branch} and sha = ${rev.sha}`;
  if (!cur) throw unrecordedRevision(rev);
  const earlierRows = await sql<{ sha: string; started_at: Date }[]>`
    select sha, started_at from revisions
    where tree = ${rev.tree} and branch = ${rev.branch} and (started_at, id) < (${cur.started_at}, ${cur.id})
    order by started_at desc, id desc limit ${historyLimit}`;
  const shas = [rev.sha, ...earlierRows.map((r) => r.sha)];
  const reopenWindow = earlierRows.slice(0, REOPEN_WINDOW).map((r) => r.sha);

  const builds = await sql<{ sha: string; config: string; status: string }[]>`
    select sha, config, status from builds
    where tree = ${rev.tree} and sha = any(${shas}) and scope = ''
      and config in (select config from builds where tree = ${rev.tree} and sha = ${rev.sha} and scope = '')`;
  const boots = await sql<
    { sha: string; config: string; platform: string; lab: string; run: number; status: string }[]
  >`
    select sha, config, platform, lab, run, status from boots
    where tree = ${rev.tree} and sha = any(${shas}) and scope = ''
      and (config, platform) in (
        select config, platform from boots where tree = ${rev.tree} and sha = ${rev.sha} and scope = '')`;
  const openRows = await sql<RegressionDbRow[]>`
    select distinct on (kind, config, platform) kind, config, platform, last_good_sha, first_bad_sha, first_bad_at,
      fixed_sha, reopened_sha
    from regressions where tree = ${rev.tree} and branch = ${rev.branch} and state <> 'fixed'
    order by kind, config, platform, first_bad_at desc`;
  const fixedRows = await sql<RegressionDbRow[]>`
    select distinct on (kind, config, platform) kind, config, platform, last_good_sha, first_bad_sha, first_bad_at,
      fixed_sha, reopened_sha
    from regressions where tree = ${rev.tree} and branch = ${rev.branch} and state = 'fixed'
      and fixed_sha = any(${reopenWindow})
    order by kind, config, platform, updated_at desc`;

  const series = new Map<string, SeriesKey>();
  const verdicts = new Map<string, Map<string, SeriesVerdict>>();
  const setVerdict = (key: SeriesKey, sha: string, v: SeriesVerdict) => {
    const id = seriesId(key);
    if (sha === rev.sha) series.set(id, key);
    if (!verdicts.has(id)) verdicts.set(id, new Map());
    verdicts.get(id)!.set(sha, v);
  };
  for (const b of builds)
    setVerdict({ kind: 'build', config: b.config, platform: '' }, b.sha, {
      verdict: isVerdict(b.status) ? b.status : null,
    });

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

  return {
    current: { sha: rev.sha, startedAt: cur.started_at },
    earlier: earlierRows.map((r) => ({ sha: r.sha, startedAt: r.started_at })),
    series,
    verdicts,
    open: new Map(openRows.map((r) => [seriesId(r), toRegressionRow(r)])),
    recentFix: new Map(fixedRows.map((r) => [seriesId(r), toRegressionRow(r)])),
    currentRuns,
  };
}

function openBefore(open: RegressionRow | undefined, sha: string): RegressionRow | null {
  return open && open.firstBadSha !== sha ? open : null;
}

interface Classified {
  c: SeriesClassification;
  /** verdicts of the series on earlier revisions */
  history: number;
}

function classifyAll(l: Loaded): Classified[] {
  const out: Classified[] = [];
  for (const [id, key] of l.series) {
    const byRev = l.verdicts.get(id)!;
    const earlier = l.earlier.map((e) => ({ ...e, verdict: byRev.get(e.sha)?.verdict ?? null }));
    const c = classifySeries(
      key,
      { ...l.current, ...(byRev.get(l.current.sha) ?? { verdict: null }) },
      earlier,
      // A row first bad at this very revision is what an earlier classification of it recorded, not history.
      openBefore(l.open.get(id), l.current.sha),
      l.recentFix.get(id) ?? null,
    );
    if (c) out.push({ c, history: earlier.filter((e) => e.verdict !== null).length });
  }
  const order = (c: SeriesClassification) => `${c.kind}\u0000${c.config}\u0000${c.platform}`;
  return out.sort((a, b) => order(a.c).localeCompare(order(b.c)));
}

function classifyLoaded(l: Loaded): SeriesClassification[] {
  return classifyAll(l).map((x) => x.c);
}

/** Read-only: how every series of the revision stands (see SeriesState). */
export async function classifyRevision(
  sql: Sql,
  rev: RevisionKey,
  opts: { historyLimit?: number } = {},
): Promise<SeriesClassification[]> {
  return classifyLoaded(await load(sql, rev, opts.historyLimit));
}

const isFailing = (c: SeriesClassification) =>
  c.state === 'new-regression' || c.state === 'still-failing' || c.state === 'failing-again';

async function record(sql: Sql, rev: RevisionKey, classified: SeriesClassification[]): Promise<void> {
  const failingNow = new Set(classified.filter(isFailing).map(seriesId));
  const series = (c: SeriesKey) => sql`
    tree = ${rev.tree} and branch = ${rev.branch} and kind = ${c.kind} and config = ${c.config}
    and platform = ${c.platform}`;
  await sql.begin(async (tx) => {
    // A regression first seen at this revision that it no longer shows (a confirmation re-run passed) is withdrawn.
    const recordedHere = await tx<SeriesKey[]>`
      select kind, config, platform from regressions
      where tree = ${rev.tree} and branch = ${rev.branch} and first_bad_sha = ${rev.sha} and state <> 'fixed' and bisection_id is null`;
    for (const r of recordedHere.filter((r) => !failingNow.has(seriesId(r)))) {
      await tx`delete from regressions where ${series(r)} and first_bad_sha = ${rev.sha}`;
    }
    // Likewise a reopening at this revision: the regression goes back to fixed.
    const reopenedHere = await tx<(SeriesKey & { id: string })[]>`
      select id, kind, config, platform from regressions
      where tree = ${rev.tree} and branch = ${rev.branch} and reopened_sha = ${rev.sha} and state <> 'fixed'`;
    for (const r of reopenedHere.filter((r) => !failingNow.has(seriesId(r)))) {
      await tx`update regressions set state = 'fixed', reopened_sha = null, flaps = greatest(flaps - 1, 0),
                 updated_at = now() where id = ${r.id}`;
      await tx`delete from regression_history where regression_id = ${r.id} and sha = ${rev.sha} and event = 'failed-again'`;
    }
    // And a fix recorded at this revision that a confirmation boot contradicted: the regression is open again.
    const fixedHere = await tx<(SeriesKey & { id: string })[]>`
      select id, kind, config, platform from regressions
      where tree = ${rev.tree} and branch = ${rev.branch} and fixed_sha = ${rev.sha} and state = 'fixed'`;
    for (const r of fixedHere.filter((r) => failingNow.has(seriesId(r)))) {
      await tx`delete from regression_history where regression_id = ${r.id} and sha = ${rev.sha} and event = 'fixed'`;
      await tx`update regressions set state = 'still-failing', updated_at = now(),
                 fixed_sha = (select sha from regression_history where regression_id = ${r.id} and event = 'fixed'
                              order by at desc, id desc limit 1)
               where id = ${r.id}`;
    }
    for (const c of classified) {
      const onlyIn = tx.json(c.onlyInLabs ?? []);
      if (c.state === 'new-regression' || c.state === 'still-failing') {
        // The unique key includes first_bad_sha, so every revision of one failure updates the same row.
        const [row] = await tx<{ id: string; first_bad_at: Date }[]>`
          insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at,
                                   last_bad_sha, only_in_labs)
          values (${rev.tree}, ${rev.branch}, ${c.kind}, ${c.config}, ${c.platform}, ${c.state === 'new-regression' ? 'new' : 'still-failing'},
                  ${c.lastGoodSha}, ${c.firstBadSha}, ${c.since}, ${rev.sha}, ${onlyIn})
          on conflict (tree, branch, kind, config, platform, first_bad_sha) do update
            set state = excluded.state, last_bad_sha = excluded.last_bad_sha, only_in_labs = excluded.only_in_labs,
                updated_at = now()
            where regressions.state <> 'fixed'
          returning id, first_bad_at`;
        if (row)
          await tx`insert into regression_history (regression_id, sha, event, at)
                   values (${row.id}, ${c.firstBadSha}, 'failed', ${row.first_bad_at}) on conflict do nothing`;
      } else if (c.state === 'failing-again') {
        const [row] = await tx<{ id: string }[]>`
          update regressions set state = 'still-failing', last_bad_sha = ${rev.sha}, only_in_labs = ${onlyIn},
            flaps = flaps + case when reopened_sha is distinct from ${rev.sha} then 1 else 0 end,
            reopened_sha = ${rev.sha}, updated_at = now()
          where ${series(c)} and first_bad_sha = ${c.firstBadSha}
          returning id`;
        if (row)
          await tx`insert into regression_history (regression_id, sha, event)
                   values (${row.id}, ${rev.sha}, 'failed-again') on conflict do nothing`;
      } else if (c.state === 'fixed') {
        const fixed = await tx<{ id: string }[]>`
          update regressions set state = 'fixed', fixed_sha = ${rev.sha}, reopened_sha = null, updated_at = now()
          where ${series(c)} and state <> 'fixed'
          returning id`;
        for (const r of fixed)
          await tx`insert into regression_history (regression_id, sha, event)
                   values (${r.id}, ${rev.sha}, 'fixed') on conflict do nothing`;
      }
    }
  });
}

/** The flake rate of each lab that booted the series at this revision. */
function withFlakeRates(
  classified: SeriesClassification[],
  l: Loaded,
  rates: Map<string, number>,
): SeriesClassification[] {
  return classified.map((c) => {
    if (c.kind !== 'boot') return c;
    const labs = [...new Set((l.currentRuns.get(seriesId(c)) ?? []).map((r) => r.lab))].sort();
    const flakeRates = Object.fromEntries(
      labs.map((lab) => [lab, rates.get(flakeKeyId({ config: c.config, platform: c.platform, lab })) ?? 0]),
    );
    return { ...c, flakeRates };
  });
}

/** The verdict a confirmation boot has to repeat, by state; null when the state is not worth a boot. */
function toConfirm(x: Classified): 'fail' | 'pass' | null {
  switch (x.c.state) {
    case 'new-regression':
    case 'failing-again':
      return 'fail';
    case 'no-history':
      // the first failure a series ever shows: a flaky board's first oops must not stand as the series' start
      return x.history === 0 ? 'fail' : null;
    case 'fixed':
      return 'pass';
    default:
      return null;
  }
}

export function createRegressionActivities({ sql }: { sql: Sql }): RegressionActivities {
  return {
    async recordRegressions(rev) {
      const keys = await seriesOfRevision(sql, rev);
      const summaries = await refreshFlakiness(sql, keys);
      const l = await load(sql, rev);
      const classified = classifyLoaded(l);
      await record(sql, rev, classified);
      const rates = new Map([...summaries].map(([id, s]) => [id, s.flakeRate]));
      return withFlakeRates(classified, l, rates);
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
        const failedLabs = [...labVerdicts(runs)].filter(([, v]) => v === 'fail').map(([lab]) => lab);
        out.push({ config: c.config, platform: c.platform, labs: failedLabs.sort(), run: lastRun + 1 });
      }
      return out;
    },

    async bootsToConfirm(rev, { confirmations }) {
      const l = await load(sql, rev);
      const wanted = classifyAll(l)
        .filter((x) => x.c.kind === 'boot')
        .flatMap((x) => {
          const confirming = toConfirm(x);
          if (!confirming) return [];
          const runs = l.currentRuns.get(seriesId(x.c)) ?? [];
          const labs = [...labVerdicts(runs)]
            .filter(([, v]) => v === confirming)
            .map(([lab]) => lab)
            .sort();
          return labs.length ? [{ c: x.c, runs, labs, confirming }] : [];
        });
      const counts = await flakeCounts(
        sql,
        wanted.flatMap((w) => w.labs.map((lab) => ({ config: w.c.config, platform: w.c.platform, lab }))),
      );
      const out: BootToConfirm[] = [];
      for (const { c, runs, labs, confirming } of wanted) {
        // the least trustworthy lab of those booted again decides how many boots must agree
        const rate = Math.max(
          ...labs.map((lab) => {
            const n = counts.get(flakeKeyId({ config: c.config, platform: c.platform, lab }));
            return flakeEstimate(n?.flakes ?? 0, n?.boots ?? 0);
          }),
        );
        const lastRun = Math.max(...runs.map((r) => r.run));
        if (lastRun >= confirmationsNeeded(confirmations, rate)) continue;
        out.push({ config: c.config, platform: c.platform, labs, run: lastRun + 1, confirming });
      }
      return out;
    },
  };
}
