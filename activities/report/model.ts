/**
 * The one report model of a revision, read from the results database. The
 * text and HTML templates are fed with it and nothing else, so both parts of
 * a mail, and the subject, always tell the same numbers.
 */
import type { Sql } from 'postgres';
import type { RevisionKey, SeriesClassification, SeriesState } from '../../domain/reports';
import { classifyRevision, unrecordedRevision } from './regressions';

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
  /** (build config, platform) pairs whose labs disagree */
  conflicts: number;
}

/** Links: `logUrl` is the raw log in the artifact store; `pageUrl` the dashboard page of the result, which shows it. */
export interface LabResult {
  lab: string;
  status: string;
  logUrl: string | null;
  pageUrl: string;
  message: string;
}

export interface RegressionItem extends SeriesClassification {
  /** `git describe` of the last good and first bad revisions, when recorded */
  lastGoodDescribe: string | null;
  firstBadDescribe: string | null;
  /** the results that fail now (lab '' for a build) */
  results: LabResult[];
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

export interface ConflictItem {
  config: string;
  platform: string;
  results: LabResult[];
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
  conflicts: ConflictItem[];
  /** identical compiler error lines across builds, most frequent first */
  errorSummary: CountedLine[];
  /** builds with warnings, most first */
  warningSummary: CountedLine[];
  late: LateResults | null;
}

const STATE_ORDER: SeriesState[] = ['new-regression', 'still-failing', 'no-history', 'fixed', 'conflict'];
const PENDING = new Set(['queued', 'running']);

/** Dashboard pages by row id: short enough for an 80-column line. */
export function dashboardPageUrl(
  dashboardUrl: string,
  what: 'revisions' | 'builds' | 'boots',
  id: number | string,
): string {
  return `${dashboardUrl.replace(/\/+$/, '')}/${what}/${id}`;
}

interface BuildRow {
  id: string;
  config: string;
  arch: string;
  defconfig: string;
  toolchain: string;
  status: string;
  warnings: number;
  errors: number;
  log_key: string | null;
  error_lines: unknown;
  message: string | null;
  finished_at: Date | null;
}

interface BootRow {
  id: string;
  config: string;
  arch: string;
  platform: string;
  lab: string;
  run: number;
  status: string;
  log_key: string | null;
  message: string | null;
  finished_at: Date | null;
}

/** One result per (config, platform, lab): the latest run with a verdict, else the latest run. */
export function latestPerLab(rows: BootRow[]): BootRow[] {
  const rank = (r: BootRow) => (r.status === 'pass' || r.status === 'fail' ? 1_000_000 : 0) + r.run;
  const best = new Map<string, BootRow>();
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

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
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
  const builds = await sql<BuildRow[]>`
    select id, config, arch, defconfig, toolchain, status, warnings, errors, log_key, error_lines, message, finished_at
    from builds where tree = ${rev.tree} and sha = ${rev.sha} order by config`;
  const bootRows = await sql<BootRow[]>`
    select id, config, arch, platform, lab, run, status, log_key, message, finished_at
    from boots where tree = ${rev.tree} and sha = ${rev.sha} order by platform, config, lab, run`;
  const classified = await classifyRevision(sql, rev);
  const endpoints = classified.flatMap((c) => [c.lastGoodSha, c.firstBadSha]).filter((x): x is string => !!x);
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
  const page = (what: 'builds' | 'boots', id: string) => dashboardPageUrl(opts.dashboardUrl, what, id);
  const labResult = (b: BootRow): LabResult => ({
    lab: b.lab,
    status: b.status,
    logUrl: logUrl(b.log_key),
    pageUrl: page('boots', b.id),
    message: b.message ?? '',
  });
  const bootFailure = (b: BootRow): BootFailure => ({
    config: b.config,
    arch: b.arch,
    platform: b.platform,
    lab: b.lab,
    logUrl: logUrl(b.log_key),
    pageUrl: page('boots', b.id),
    message: b.message ?? '',
  });
  const count = <T extends { status: string }>(list: T[], status: string) =>
    list.filter((x) => x.status === status).length;

  const conflicts = classified
    .filter((c) => c.state === 'conflict')
    .map((c) => ({
      config: c.config,
      platform: c.platform,
      results: boots.filter((b) => b.config === c.config && b.platform === c.platform).map(labResult),
    }));

  const regressions: RegressionItem[] = classified
    .filter((c) => c.state !== 'conflict')
    .map((c) => ({
      ...c,
      lastGoodDescribe: describe(c.lastGoodSha),
      firstBadDescribe: describe(c.firstBadSha),
      results:
        c.kind === 'build'
          ? builds
              .filter((b) => b.config === c.config && b.status === 'fail')
              .map((b) => ({
                lab: '',
                status: b.status,
                logUrl: logUrl(b.log_key),
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
  const finishedAfter = (d: Date | null) => !!opts.lateSince && !!d && d > opts.lateSince;

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
      conflicts: conflicts.length,
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
        logUrl: logUrl(b.log_key),
        pageUrl: page('builds', b.id),
        errorLines: stringArray(b.error_lines),
        message: b.message ?? '',
      })),
    bootFailuresByPlatform: groupBy(failedBoots, (b) => b.platform),
    bootFailuresByConfig: groupBy(failedBoots, (b) => b.config),
    offline: groupBy(
      boots.filter((b) => b.status === 'offline'),
      (b) => b.platform,
    ).map((g) => ({ name: g.name, items: g.items.map((b) => ({ config: b.config, lab: b.lab })) })),
    conflicts,
    errorSummary: countLines(builds.flatMap((b) => stringArray(b.error_lines))),
    warningSummary: builds
      .filter((b) => b.warnings > 0)
      .map((b) => ({ text: b.config, count: b.warnings }))
      .sort((a, b) => b.count - a.count || a.text.localeCompare(b.text)),
    late: opts.lateSince
      ? {
          since: opts.lateSince.toISOString(),
          builds: builds
            .filter((b) => finishedAfter(b.finished_at))
            .map((b) => ({ config: b.config, status: b.status })),
          boots: boots
            .filter((b) => finishedAfter(b.finished_at))
            .map((b) => ({ config: b.config, platform: b.platform, lab: b.lab, status: b.status })),
        }
      : null,
  };
}
