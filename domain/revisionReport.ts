/**
 * The structured outcome of one revision, as the pipeline returns it: ids,
 * statuses and counts only (logs stay in the artifact store, details in the
 * database). Pure functions; workflow code imports this module.
 */
import type { Status } from './status';
import type { BuildBootResult, BuildStatus } from './types';
import type { TestStatus } from './testResults';

export type RevisionResult = Extract<Status, 'pass' | 'fail' | 'infra-error'>;

export interface RevisionCounts {
  builds: { total: number; pass: number; fail: number; infraError: number; warnings: number; errors: number };
  boots: { total: number; pass: number; fail: number; infraError: number; offline: number; skip: number };
}

export interface BuildEntry {
  config: string;
  arch: string;
  status: BuildStatus;
  warnings: number;
  errors: number;
  buildId?: number;
  logKey?: string;
  /** short reason for an infra-error */
  message?: string;
}

export interface BootEntry {
  config: string;
  platform: string;
  lab: string;
  run: number;
  status: Status;
  logKey?: string;
  /** the line that decided the verdict, cut short */
  message: string;
  /** its test plan's results per status, and the stored results file (domain/testResults.ts) */
  tests?: { counts: Record<TestStatus, number>; resultsKey?: string };
}

export interface RevisionReport {
  workflowId: string;
  tree: string;
  branch: string;
  sha: string;
  describe: string;
  subject: string;
  result: RevisionResult;
  counts: RevisionCounts;
  builds: BuildEntry[];
  boots: BootEntry[];
}

const MESSAGE_MAX = 200;

export function shortMessage(message: string | undefined): string {
  const line = (message ?? '').split('\n')[0];
  return line.length > MESSAGE_MAX ? `${line.slice(0, MESSAGE_MAX - 1)}…` : line;
}

/** pass when everything passed, fail when the kernel failed anywhere, infra-error otherwise (offline included). */
export function overallResult(statuses: readonly Status[]): RevisionResult {
  if (statuses.includes('fail')) return 'fail';
  return statuses.every((s) => s === 'pass') ? 'pass' : 'infra-error';
}

export function buildBootOutcome(r: BuildBootResult): RevisionResult {
  return overallResult([r.build.status, ...r.boots.map((b) => b.status)]);
}

export function countResults(results: readonly BuildBootResult[]): RevisionCounts {
  const counts: RevisionCounts = {
    builds: { total: 0, pass: 0, fail: 0, infraError: 0, warnings: 0, errors: 0 },
    boots: { total: 0, pass: 0, fail: 0, infraError: 0, offline: 0, skip: 0 },
  };
  for (const r of results) {
    counts.builds.total++;
    counts.builds.warnings += r.build.warnings;
    counts.builds.errors += r.build.errors;
    if (r.build.status === 'pass') counts.builds.pass++;
    else if (r.build.status === 'fail') counts.builds.fail++;
    else counts.builds.infraError++;
    for (const b of r.boots) {
      counts.boots.total++;
      if (b.status === 'infra-error') counts.boots.infraError++;
      else counts.boots[b.status]++;
    }
  }
  return counts;
}

export function buildEntries(results: readonly BuildBootResult[]): BuildEntry[] {
  return results.map((r) => ({
    config: r.config,
    arch: r.arch,
    status: r.build.status,
    warnings: r.build.warnings,
    errors: r.build.errors,
    buildId: r.buildId,
    logKey: r.build.artifacts.log?.key,
    message: r.build.status === 'infra-error' ? shortMessage(r.build.message) : undefined,
  }));
}

export function bootEntries(results: readonly BuildBootResult[]): BootEntry[] {
  return results.flatMap((r) =>
    r.boots.map((b) => ({
      config: r.config,
      platform: b.platform,
      lab: b.lab,
      run: b.run ?? 0,
      status: b.status,
      logKey: b.log?.key,
      message: shortMessage(b.message),
      ...(b.tests
        ? { tests: { counts: b.tests.counts, ...(b.tests.results ? { resultsKey: b.tests.results.key } : {}) } }
        : {}),
    })),
  );
}
