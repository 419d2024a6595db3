/**
 * Bootfarm's event metrics, counted where results are recorded: an activity
 * interceptor on the orchestrator worker watches the record activities (the
 * one place every build and boot passes, offline and lost ones included) and
 * the mail activities, and counts what they were given once they succeed.
 * Labels are names from the config (tree, arch, lab, platform) and statuses
 * only — never a sha or a workflow id — so the number of series is bounded
 * by the config.
 */
import type { Sql } from 'postgres';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { BootfarmConfig, BuildConfig } from '../../domain/config';
import type { BootRecord } from '../../domain/activityContracts';
import type { BuildResult } from '../../domain/types';
import type { SendResult, SeriesClassification } from '../../domain/reports';

export const BOOT_STATUSES = ['pass', 'fail', 'infra-error', 'offline', 'skip'] as const;
export const BUILD_STATUSES = ['pass', 'fail', 'infra-error'] as const;

/** Build kernels take minutes; boots seconds to minutes; bisections minutes to hours. */
const BUILD_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const BOOT_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200];
const BISECTION_BUCKETS = [30, 60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400];

/** Keys of the events counted lately: a local activity run again (a workflow task retried) is counted once. */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly max = 50_000) {}
  /** true the first time a key is seen */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value as string);
    return true;
  }
}

export class PipelineMetrics {
  readonly builds: Counter<'tree' | 'arch' | 'status'>;
  readonly buildsLost: Counter<'tree'>;
  readonly buildDuration: Histogram<'arch' | 'status'>;
  readonly boots: Counter<'tree' | 'lab' | 'platform' | 'status'>;
  readonly bootDuration: Histogram<'lab' | 'platform' | 'status'>;
  readonly regressionsFound: Counter<'tree' | 'kind'>;
  readonly bisectionsStarted: Counter<'tree'>;
  readonly bisectionDuration: Histogram<'result'>;
  readonly mails: Counter<'kind' | 'status'>;
  private readonly seen = new RecentKeys();

  constructor(registry: Registry) {
    const registers = [registry];
    this.builds = new Counter({
      name: 'bootfarm_builds_total',
      help: 'Builds recorded, by tree, arch and status (pass, fail, infra-error)',
      labelNames: ['tree', 'arch', 'status'],
      registers,
    });
    this.buildsLost = new Counter({
      name: 'bootfarm_builds_lost_total',
      help: 'Build-boot workflows that ended without a result (recorded infra-error by their revision)',
      labelNames: ['tree'],
      registers,
    });
    this.buildDuration = new Histogram({
      name: 'bootfarm_build_duration_seconds',
      help: 'How long builds took on the builder, by arch and status',
      labelNames: ['arch', 'status'],
      buckets: BUILD_BUCKETS,
      registers,
    });
    this.boots = new Counter({
      name: 'bootfarm_boots_total',
      help: 'Boots recorded, by tree, lab, platform and status (pass, fail, infra-error, offline, skip)',
      labelNames: ['tree', 'lab', 'platform', 'status'],
      registers,
    });
    this.bootDuration = new Histogram({
      name: 'bootfarm_boot_duration_seconds',
      help: 'How long boots the lab answered took, by lab, platform and status',
      labelNames: ['lab', 'platform', 'status'],
      buckets: BOOT_BUCKETS,
      registers,
    });
    this.regressionsFound = new Counter({
      name: 'bootfarm_regressions_found_total',
      help: 'New regressions recorded, by tree and kind (build, boot)',
      labelNames: ['tree', 'kind'],
      registers,
    });
    this.bisectionsStarted = new Counter({
      name: 'bootfarm_bisections_started_total',
      help: 'Bisections started, by tree',
      labelNames: ['tree'],
      registers,
    });
    this.bisectionDuration = new Histogram({
      name: 'bootfarm_bisection_duration_seconds',
      help: 'How long finished bisections took, by result (found, not-found, invalid, error)',
      labelNames: ['result'],
      buckets: BISECTION_BUCKETS,
      registers,
    });
    this.mails = new Counter({
      name: 'bootfarm_mails_total',
      help: 'Report mails by kind (build, boot, bisect) and outcome (sent, already-sent, unconfirmed, nothing-new, failed)',
      labelNames: ['kind', 'status'],
      registers,
    });
  }

  /**
   * Every configured tree × lab platform × status starts at 0, so rate() and
   * increase() see a boot's first failure instead of a series appearing.
   */
  initialise(config: Pick<BootfarmConfig, 'trees' | 'labs' | 'buildConfigs'>): void {
    const arches = new Set(config.buildConfigs.map((c) => c.arch));
    for (const t of config.trees) {
      for (const arch of arches)
        for (const status of BUILD_STATUSES) this.builds.inc({ tree: t.name, arch, status }, 0);
      for (const l of config.labs)
        for (const p of l.platforms)
          for (const status of BOOT_STATUSES)
            this.boots.inc({ tree: t.name, lab: l.name, platform: p.name, status }, 0);
    }
    for (const kind of ['build', 'boot', 'bisect'])
      for (const status of ['sent', 'failed']) this.mails.inc({ kind, status }, 0);
  }

  build(rec: { tree: string; config: BuildConfig; result: BuildResult; workflowId: string }): void {
    if (!this.seen.add(`build|${rec.workflowId}|${rec.tree}|${rec.config.name}`)) return;
    const { status, durationMs } = rec.result;
    this.builds.inc({ tree: rec.tree, arch: rec.config.arch, status });
    if (durationMs > 0) this.buildDuration.observe({ arch: rec.config.arch, status }, durationMs / 1000);
  }

  lostBuild(rec: { tree: string; config: BuildConfig; workflowId: string }): void {
    if (this.seen.add(`lost|${rec.workflowId}|${rec.tree}|${rec.config.name}`)) this.buildsLost.inc({ tree: rec.tree });
  }

  boot(rec: BootRecord): void {
    const r = rec.result;
    if (!this.seen.add(`boot|${rec.workflowId}|${rec.buildId}|${r.platform}|${r.lab}|${rec.run}`)) return;
    this.boots.inc({ tree: rec.tree, lab: r.lab, platform: r.platform, status: r.status });
    if (rec.fromLab && r.durationMs > 0)
      this.bootDuration.observe({ lab: r.lab, platform: r.platform, status: r.status }, r.durationMs / 1000);
  }

  regressions(tree: string, classified: SeriesClassification[]): void {
    for (const c of classified)
      if (
        c.state === 'new-regression' &&
        this.seen.add(`regression|${tree}|${c.kind}|${c.config}|${c.platform}|${c.firstBadSha}`)
      )
        this.regressionsFound.inc({ tree, kind: c.kind });
  }

  mail(kind: string, outcome: string): void {
    this.mails.inc({ kind, status: outcome });
  }
}

type Args = unknown[];
type Observer = (args: Args, result: unknown) => void | Promise<void>;

export interface ActivityObservers {
  /** after the activity succeeded, with its arguments and result */
  succeeded: Record<string, Observer>;
  /** after an attempt threw */
  failed: Record<string, (args: Args) => void>;
}

/** What each watched activity contributes, by the name it is registered under (domain/activityContracts.ts). */
export function pipelineObservers(m: PipelineMetrics, sql?: Sql): ActivityObservers {
  const first = <T>(args: Args) => args[0] as T;
  return {
    succeeded: {
      recordBuild: (args) => m.build(first(args)),
      recordLostBuild: (args) => m.lostBuild(first(args)),
      recordBoot: (args) => m.boot(first<BootRecord>(args)),
      recordRegressions: (args, result) =>
        m.regressions(first<{ tree: string }>(args).tree, (result ?? []) as SeriesClassification[]),
      recordBisectionStart: (args) => m.bisectionsStarted.inc({ tree: first<{ tree: string }>(args).tree }),
      recordBisectionEnd: async (args) => {
        if (!sql) return;
        const { workflowId } = first<{ workflowId: string }>(args);
        const [row] = await sql<{ status: string; seconds: number | null }[]>`
          select status, extract(epoch from finished_at - created_at)::float8 as seconds
          from bisections where workflow_id = ${workflowId}`;
        if (row && row.seconds !== null) m.bisectionDuration.observe({ result: row.status }, Math.max(0, row.seconds));
      },
      sendRevisionReport: (args, result) => m.mail(first<{ kind: string }>(args).kind, (result as SendResult).status),
      sendBisectReport: (_args, result) => m.mail('bisect', (result as { status: string }).status),
    },
    // Each failed attempt: an SMTP server that refuses shows at once, not after the retries give up.
    failed: {
      sendRevisionReport: (args) => m.mail(first<{ kind: string }>(args).kind, 'failed'),
      sendBisectReport: () => m.mail('bisect', 'failed'),
    },
  };
}

/** Observes the watched activities of a worker; observing never fails the activity (`onError` hears of it). */
export function metricsInterceptor(
  observers: ActivityObservers,
  onError: (e: unknown) => void = () => {},
): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const type = ctx.info.activityType;
        const succeeded = observers.succeeded[type];
        const failed = observers.failed[type];
        if (!succeeded && !failed) return next(input);
        const args = input.args as Args;
        let result: unknown;
        try {
          result = await next(input);
        } catch (e) {
          try {
            failed?.(args);
          } catch (err) {
            onError(err);
          }
          throw e;
        }
        try {
          await succeeded?.(args, result);
        } catch (err) {
          onError(err);
        }
        return result;
      },
    },
  });
}
