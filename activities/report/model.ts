/**
 * The one report model of a revision, read from the results database. The
 * text and HTML templates are fed with it and nothing else, so both parts of
 * a mail, and the subject, always tell the same numbers.
 */
import type { Sql } from 'postgres';
import type { RevisionKey, SeriesClassification, SeriesState } from '../../domain/reports';
import { classifyRevision, unrecordedRevision } from './regressions';
import { flakeCounts, flakeKeyId } from './flakes';
import { BOOT_COLUMNS, BUILD_COLUMNS, toBoot, toBuild, type Boot } from '../../plumbing/db/rows';
import { platformTests, type PlatformTests } from './testSection';

export interface ReportModelOptions extends RevisionKey {
  /** the dashboard's public base URL, e.g. http://localhost:8080 */
  dashboardUrl: string;
  /** where artifact keys are served; default `<dashboardUrl>/artifacts` (or an S3 bucket URL) */
  artifactBaseUrl?: string;
  /** for a follow-up: results finished after this instant are listed as late */
  lateSince?: Date;
}

export interface BuildCounts {
  total: number;
  pass: number;
  fail: number;
  infraError: number;
  pending: number;
  /** compiler errors and warnings summed over all builds */
  errors: number;
  warnings: number;
}

export interface BootCounts {
  /** one per (build config, platform, lab): the latest run that gave a verdict, else the latest run */
  total: number;
  pass: number;
  fail: number;
  offline: number;
  infraError: number;
  skip: number;
  pending: number;
  /** (build config, platform) pairs that fail in some labs and pass in others */
  labSpecific: number;
}

/** Links: `logUrl` is the raw log in the artifact store; `pageUrl` the dashboard page of the result, which shows it. */
export interface LabResult {
  lab: string;
  status: string;
  logUrl: string | null;
  pageUrl: string;
  message: string;
}

/** One transition of a regression, oldest first. */
export interface HistoryEntry {
  event: 'failed' | 'fixed' | 'failed-again';
  sha: string;
  describe: string | null;
}

export interface RegressionItem extends SeriesClassification {
  /** `git describe` of the last good and first bad revisions, when recorded */
  lastGoodDescribe: string | null;
  firstBadDescribe: string | null;
  /** failing-again: `git describe` of the revision that had fixed it */
  fixedDescribe: string | null;
  /** the results that fail now (lab '' for a build) */
  results: LabResult[];
  /** the recorded regression's transitions, when it has been fixed at least once */
  history: HistoryEntry[];
}

export interface BuildFailure {
  config: string;
  arch: string;
  defconfig: string;
  toolchain: string;
  status: string;
  errors: number;
  warnings: number;
  logUrl: string | null;
  pageUrl: string;
  errorLines: string[];
  message: string;
}

export interface BootFailure {
  config: string;
  arch: string;
  platform: string;
  lab: string;
  logUrl: string | null;
  pageUrl: string;
  message: string;
}

export interface Grouped<T> {
  name: string;
  items: T[];
}

/** A kernel that fails on a platform in some labs and passes in others. */
export interface LabSpecificItem {
  config: string;
  platform: string;
  failingLabs: string[];
  passingLabs: string[];
  state: SeriesState;
  results: LabResult[];
}

/** A lab whose boots of this kernel disagreed: the latest decided, the others were flakes. */
export interface FlakyItem {
  config: string;
  platform: string;
  lab: string;
  /** the verdict boots in run order, e.g. "FP" (failed, then passed when booted again) */
  outcomes: string;
  verdict: 'pass' | 'fail';
  /** the series' recorded flake rate (domain/flakiness.ts) */
  flakeRate: number;
}

export interface CountedLine {
  text: string;
  count: number;
}

export interface LateResults {
  since: string;
  builds: { config: string; status: string }[];
  boots: { config: string; platform: string; lab: string; status: string }[];
}

export interface ReportModel {
  tree: string;
  branch: string;
  sha: string;
  describe: string;
  commitSubject: string;
  author: string;
  gitUrl: string;
  /** the revision's page on the dashboard */
  dashboardUrl: string;
  /** database time the model was read at; a follow-up lists what finished after it */
  asOf: string;
  builds: BuildCounts;
  boots: BootCounts;
  /** build and boot series by state, new regressions first */
  regressions: RegressionItem[];
  buildFailures: BuildFailure[];
  bootFailuresByPlatform: Grouped<BootFailure>[];
  bootFailuresByConfig: Grouped<BootFailure>[];
  /** platforms whose boots no lab picked up, with the labs and configs */
  offline: Grouped<{ config: string; lab: string }>[];
  /** kernels that fail only in some labs ("fails only in lab X") */
  labSpecific: LabSpecificItem[];
  /** labs whose boots of one kernel disagreed at this revision */
  flaky: FlakyItem[];
  /** identical compiler error lines across builds, most frequent first */
  errorSummary: CountedLine[];
  /** builds with warnings, most first */
  warningSummary: CountedLine[];
  late: LateResults | null;
  /** the test plans' results of the counted boots, per platform (testSection.ts) */
  tests: PlatformTests[];
}

const STATE_ORDER: SeriesState[] = ['new-regression', 'failing-again', 'still-failing', 'no-history', 'fixed'];
const PENDING = new Set(['queued', 'running']);

/** Dashboard pages by row id: short enough for an 80-column line. */
export function dashboardPageUrl(
  dashboardUrl: string,
  what: 'revisions' | 'builds' | 'boots',
  id: number | string,
): string {
  return `${dashboardUrl.replace(/\/+$/, '')}/${what}/${id}`;
}

/** One result per (config, platform, lab): the latest run with a verdict, else the latest run. */
export function latestPerLab(rows: Boot[]): Boot[] {
  const rank = (r: Boot) => (r.status === 'pass' || r.status === 'fail' ? 1_000_000 : 0) + r.run;
  const best = new Map<string, Boot>();
  for (const r of rows) {
    const key = `${r.config}\u0000${r.platform}\u0000${r.lab}`;
    const seen = best.get(key);
    if (!seen || rank(r) > rank(seen)) best.set(key, r);
  }
  return [...best.values()];
}

function groupBy<T>(items: T[], name: (t: T) => string): Grouped<T>[] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const n = name(it);
    if (!groups.has(n)) groups.set(n, []);
    groups.get(n)!.push(it);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([n, list]) => ({ name: n, items: list }));
}

function countLines(lines: string[]): CountedLine[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()]
    .map(([text, count]) => ({ text, count }))
    .sort((a, b) => b.count - a.count || a.text.localeCompare(b.text));
}

const historyKey = (c: Pick<SeriesClassification, 'kind' | 'config' | 'platform' | 'firstBadSha'>) =>
  `${c.kind}\u0000${c.config}\u0000${c.platform}\u0000${c.firstBadSha}`;

/** The transitions of the revision's regressions that have flapped (failed again after a fix), oldest first. */
async function regressionHistory(
  sql: Sql,
  rev: RevisionKey,
  classified: SeriesClassification[],
): Promise<Map<string, Omit<HistoryEntry, 'describe'>[]>> {
  const flapping = classified.filter((c) => c.firstBadSha);
  const out = new Map<string, Omit<HistoryEntry, 'describe'>[]>();
  if (!flapping.length) return out;
  const rows = await sql<
    {
      kind: string;
      config: string;
      platform: string;
      first_bad_sha: string;
      sha: string;
      event: HistoryEntry['event'];
    }[]
  >`
    select r.kind, r.config, r.platform, r.first_bad_sha, h.sha, h.event
    from regressions r join regression_history h on h.regression_id = r.id
    where r.tree = ${rev.tree} and r.branch = ${rev.branch} and r.flaps > 0
      and r.first_bad_sha = any(${flapping.map((c) => c.firstBadSha as string)})
    order by h.at, h.id`;
  for (const r of rows) {
    const key = historyKey({
      kind: r.kind as SeriesClassification['kind'],
      config: r.config,
      platform: r.platform,
      firstBadSha: r.first_bad_sha,
    });
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push({ event: r.event, sha: r.sha });
  }
  return out;
}

/** Labs whose verdict boots of one kernel disagree at this revision, with the series' flake rate. */
async function flakyLabs(sql: Sql, rows: Boot[]): Promise<FlakyItem[]> {
  const byLab = new Map<string, { config: string; platform: string; lab: string; runs: Boot[] }>();
  for (const r of rows) {
    if (r.status !== 'pass' && r.status !== 'fail') continue;
    const key = flakeKeyId(r);
    if (!byLab.has(key)) byLab.set(key, { config: r.config, platform: r.platform, lab: r.lab, runs: [] });
    byLab.get(key)!.runs.push(r);
  }
  const disagreeing = [...byLab.values()].filter((s) => new Set(s.runs.map((r) => r.status)).size > 1);
  const counts = await flakeCounts(sql, disagreeing);
  return disagreeing.map((s) => {
    const runs = [...s.runs].sort((a, b) => a.run - b.run);
    return {
      config: s.config,
      platform: s.platform,
      lab: s.lab,
      outcomes: runs.map((r) => (r.status === 'pass' ? 'P' : 'F')).join(''),
      verdict: runs[runs.length - 1].status as 'pass' | 'fail',
      flakeRate: counts.get(flakeKeyId(s))?.flakeRate ?? 0,
    };
  });
}

export async function buildReportModel(sql: Sql, opts: ReportModelOptions): Promise<ReportModel> {
  const rev: RevisionKey = { tree: opts.tree, branch: opts.branch, sha: opts.sha };
  const [r] = await sql<
    {
      id: string;
      describe: string;
      subject: string;
      author: string;
      author_email: string;
      url: string | null;
      now: Date;
    }[]
  >`
    select r.id, r.describe, r.subject, r.author, r.author_email, t.url, now() as now
    from revisions r left join trees t on t.name = r.tree
    where r.tree = ${rev.tree} and r.branch = ${rev.branch} and r.sha = ${rev.sha}`;
  if (!r) throw unrecordedRevision(rev);
  const builds = (
    await sql`select ${sql.unsafe(BUILD_COLUMNS)} from builds
      where tree = ${rev.tree} and sha = ${rev.sha} and scope = '' order by config`
  ).map(toBuild);
  const bootRows = (
    await sql`select ${sql.unsafe(BOOT_COLUMNS)} from boots
      where tree = ${rev.tree} and sha = ${rev.sha} and scope = '' order by platform, config, lab, run`
  ).map(toBoot);
  const classified = await classifyRevision(sql, rev);
  const history = await regressionHistory(sql, rev, classified);
  const endpoints = [
    ...classified.flatMap((c) => [c.lastGoodSha, c.firstBadSha, c.fixedSha ?? null]),
    ...[...history.values()].flat().map((h) => h.sha),
  ].filter((x): x is string => !!x);
  const describes = new Map(
    (
      await sql<
        { sha: string; describe: string }[]
      >`select distinct sha, describe from revisions where tree = ${rev.tree} and sha = any(${endpoints}) and describe <> ''`
    ).map((d) => [d.sha, d.describe]),
  );
  const describe = (sha: string | null) => (sha ? (describes.get(sha) ?? null) : null);

  const artifactBase = (opts.artifactBaseUrl ?? `${opts.dashboardUrl.replace(/\/+$/, '')}/artifacts`).replace(
    /\/+$/,
    '',
  );
  const logUrl = (key: string | null) => (key ? `${artifactBase}/${key}` : null);
  const boots = latestPerLab(bootRows);
  const page = (what: 'builds' | 'boots', id: number) => dashboardPageUrl(opts.dashboardUrl, what, id);
  const labResult = (b: Boot): LabResult => ({
    lab: b.lab,
    status: b.status,
    logUrl: logUrl(b.logKey),
    pageUrl: page('boots', b.id),
    message: b.message ?? '',
  });
  const bootFailure = (b: Boot): BootFailure => ({
    config: b.config,
    arch: b.arch,
    platform: b.platform,
    lab: b.lab,
    logUrl: logUrl(b.logKey),
    pageUrl: page('boots', b.id),
    message: b.message ?? '',
  });
  const count = <T extends { status: string }>(list: T[], status: string) =>
    list.filter((x) => x.status === status).length;

  const labSpecific = classified
    .filter((c) => c.onlyInLabs?.length)
    .map((c) => ({
      config: c.config,
      platform: c.platform,
      failingLabs: c.onlyInLabs ?? [],
      passingLabs: c.passingInLabs ?? [],
      state: c.state,
      results: boots.filter((b) => b.config === c.config && b.platform === c.platform).map(labResult),
    }));
  const flaky = await flakyLabs(sql, bootRows);
  const tests = await platformTests(sql, boots, (id) => page('boots', id));

  const regressions: RegressionItem[] = classified
    .map((c) => ({
      ...c,
      lastGoodDescribe: describe(c.lastGoodSha),
      firstBadDescribe: describe(c.firstBadSha),
      fixedDescribe: describe(c.fixedSha ?? null),
      history: (history.get(historyKey(c)) ?? []).map((h) => ({ ...h, describe: describe(h.sha) })),
      results:
        c.kind === 'build'
          ? builds
              .filter((b) => b.config === c.config && b.status === 'fail')
              .map((b) => ({
                lab: '',
                status: b.status,
                logUrl: logUrl(b.logKey),
                pageUrl: page('builds', b.id),
                message: b.message ?? '',
              }))
          : boots
              .filter((b) => b.config === c.config && b.platform === c.platform && b.status === 'fail')
              .map(labResult),
    }))
    .sort(
      (a, b) =>
        STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) ||
        a.kind.localeCompare(b.kind) ||
        a.config.localeCompare(b.config) ||
        a.platform.localeCompare(b.platform),
    );

  const failedBoots = boots.filter((b) => b.status === 'fail').map(bootFailure);
  const finishedAfter = (iso: string | null) => !!opts.lateSince && !!iso && new Date(iso) > opts.lateSince;

  return {
    ...rev,
    describe: r.describe || rev.sha.slice(0, 12),
    commitSubject: r.subject,
    author: r.author_email ? `${r.author} <${r.author_email}>` : r.author,
    gitUrl: r.url ?? '',
    dashboardUrl: dashboardPageUrl(opts.dashboardUrl, 'revisions', r.id),
    asOf: r.now.toISOString(),
    builds: {
      total: builds.length,
      pass: count(builds, 'pass'),
      fail: count(builds, 'fail'),
      infraError: count(builds, 'infra-error'),
      pending: builds.filter((b) => PENDING.has(b.status)).length,
      errors: builds.reduce((n, b) => n + b.errors, 0),
      warnings: builds.reduce((n, b) => n + b.warnings, 0),
    },
    boots: {
      total: boots.length,
      pass: count(boots, 'pass'),
      fail: count(boots, 'fail'),
      offline: count(boots, 'offline'),
      infraError: count(boots, 'infra-error'),
      skip: count(boots, 'skip'),
      pending: boots.filter((b) => PENDING.has(b.status)).length,
      labSpecific: labSpecific.length,
    },
    regressions,
    buildFailures: builds
      .filter((b) => b.status === 'fail')
      .map((b) => ({
        config: b.config,
        arch: b.arch,
        defconfig: b.defconfig,
        toolchain: b.toolchain,
        status: b.status,
        errors: b.errors,
        warnings: b.warnings,
        logUrl: logUrl(b.logKey),
        pageUrl: page('builds', b.id),
        errorLines: b.errorLines,
        message: b.message ?? '',
      })),
    bootFailuresByPlatform: groupBy(failedBoots, (b) => b.platform),
    bootFailuresByConfig: groupBy(failedBoots, (b) => b.config),
    offline: groupBy(
      boots.filter((b) => b.status === 'offline'),
      (b) => b.platform,
    ).map((g) => ({ name: g.name, items: g.items.map((b) => ({ config: b.config, lab: b.lab })) })),
    labSpecific,
    flaky,
    errorSummary: countLines(builds.flatMap((b) => b.errorLines)),
    warningSummary: builds
      .filter((b) => b.warnings > 0)
      .map((b) => ({ text: b.config, count: b.warnings }))
      .sort((a, b) => b.count - a.count || a.text.localeCompare(b.text)),
    late: opts.lateSince
      ? {
          since: opts.lateSince.toISOString(),
          builds: builds
            .filter((b) => finishedAfter(b.finishedAt))
            .map((b) => ({ config: b.config, status: b.status })),
          boots: boots
            .filter((b) => finishedAfter(b.finishedAt))
            .map((b) => ({ config: b.config, platform: b.platform, lab: b.lab, status: b.status })),
        }
      : null,
    tests,
  };
}
