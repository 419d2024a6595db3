/**
 * One bisection on the run's real Temporal dev server with the real
 * activities: builds are real makes of the fixture kernel (in their box, by a
 * builder with mirrors of its own, as on another host), boots real QEMU
 * boots, records go to PostgreSQL, the report to an outbox (and an SMTP
 * server when given). A flaky board can be laid over the real boots: a boot
 * that passed is failed on purpose, seeded by its place in the history.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createBisectActivities } from '../../../activities/bisect';
import { createBuildActivities } from '../../../activities/build/index';
import { createLabActivities } from '../../../activities/labs';
import { createLabHealthActivities } from '../../../activities/labs/health';
import { createResultActivities } from '../../../activities/pipeline/records';
import { createWorkflowLookupActivities } from '../../../activities/pipeline/workflowLookup';
import { DirStore } from '../../../plumbing/store/dirStore';
import { parseConfig } from '../../../plumbing/loadConfig';
import { workflowIds } from '../../../domain/ids';
import { boardQueue } from '../../../domain/pipelineSpec';
import type { BisectInput, BisectResult } from '../../../domain/bisect';
import type { BootRequest, BuildRequest } from '../../../domain/types';
import { bisect } from '../../../workflows/bisect';
import { uniqueId, type TestDatabase } from '../../harness/services';
import { withWorkers } from '../../workflows/workers';
import { testConfigYaml } from '../../support/testConfig';
import { bootPlace, flakes } from './flakyBoard';

export const bisectionConfig = parseConfig(
  testConfigYaml({
    tree: 'e2e',
    platformOptions: 'memoryMb: 128, bootTimeout: 60s',
    labPlatform: '{ name: qemu-x86_64, capacity: 2 }',
    labOptions: 'bootTimeout: 60s',
  }),
);

export interface RealBisection {
  result: BisectResult;
  workflowId: string;
  /** the artifact store's directory and the outbox */
  artifactsDir: string;
  outbox: string;
  /** the commits the builder built, in order */
  built: string[];
  /** the boot keys the flaky board failed on purpose */
  flaked: string[];
}

export interface RealBisectionOptions {
  /** everything of this bisection goes under root (the ccache is shared by the caller's root) */
  root: string;
  db: TestDatabase;
  client: Client;
  url: string;
  good: string;
  bad: string;
  /** default 'e2e'; several bisections in one test file give each its own tree */
  tree?: string;
  /** bisect settings (default parallel 2, verify runs 2) */
  settings?: Partial<Pick<BisectInput, 'parallel' | 'verifyRuns' | 'flakeRate' | 'stepRuns' | 'flakeThreshold'>>;
  /** the board fails a passed boot on purpose with this seed and rate, by the boot's place among shas */
  flaky?: { seed: number; rate: number; shas: string[] };
  smtpUrl?: string;
  /** the builder's extra environment besides CCACHE_DIR */
  builderEnv?: Record<string, string>;
  ccacheDir?: string;
}

/** Bisect `good..bad` of the fixture repo at `url` on x86_64-defconfig / qemu-x86_64. */
export async function runRealBisection(opts: RealBisectionOptions): Promise<RealBisection> {
  const { root, db, client } = opts;
  const tree = opts.tree ?? 'e2e';
  const cfg = bisectionConfig;
  const artifactsDir = join(root, 'artifacts');
  const store = new DirStore(artifactsDir);
  const outbox = join(root, 'outbox');
  const prefix = `${uniqueId('e2e')}-`;
  const lab = cfg.labs[0];
  const built: string[] = [];
  const flaked: string[] = [];
  const builder = createBuildActivities({
    store,
    workDir: join(root, 'builder'),
    jobs: 2,
    builderName: 'e2e-builder',
    // its own mirrors, as a builder on another host: it has to make the revert commit itself
    git: { mirrorDir: join(root, 'builder-mirrors') },
    env: { CCACHE_DIR: opts.ccacheDir ?? join(root, 'ccache'), ...opts.builderEnv },
  });
  const labActs = createLabActivities({ lab, store, workDir: join(root, 'lab') });
  const workflowId = workflowIds.bisect(tree, opts.bad, 'x86_64-defconfig', 'qemu-x86_64') + `:${uniqueId('')}`;
  const result = await withWorkers(
    'dev-server',
    [
      {
        taskQueue: `${prefix}bootfarm`,
        workflows: true,
        activities: {
          ...createResultActivities({ sql: db.sql }),
          ...createLabHealthActivities({ client, sql: db.sql }),
          ...createWorkflowLookupActivities({ client }),
          ...createBisectActivities({
            sql: db.sql,
            mirrorDir: join(root, 'mirrors'),
            store,
            outboxDir: outbox,
            smtpUrl: opts.smtpUrl,
            dashboardUrl: 'http://127.0.0.1:8080',
          }),
        },
      },
      {
        taskQueue: `${prefix}build`,
        activities: {
          async buildKernel(req: BuildRequest) {
            built.push(req.sha);
            return builder.buildKernel(req);
          },
        },
      },
      {
        taskQueue: boardQueue({ taskQueuePrefix: prefix }, lab.name, 'qemu-x86_64'),
        activities: {
          ...labActs,
          async bootKernel(req: BootRequest) {
            const r = await labActs.bootKernel(req);
            const { flaky } = opts;
            if (flaky && r.status === 'pass' && flakes(flaky.seed, flaky.rate, bootPlace(req.bootKey, flaky.shas))) {
              flaked.push(req.bootKey);
              return { ...r, status: 'fail' as const, message: 'board: console lost before the login prompt' };
            }
            return r;
          },
        },
        maxConcurrentActivityTaskExecutions: 2,
      },
    ],
    () =>
      client.workflow.execute(bisect, {
        taskQueue: `${prefix}bootfarm`,
        workflowId,
        args: [
          {
            tree,
            branch: 'master',
            url: opts.url,
            good: opts.good,
            bad: opts.bad,
            config: cfg.buildConfigs[0],
            target: { platform: cfg.platforms[0], lab },
            parallel: 2,
            verifyRuns: 2,
            ...opts.settings,
            taskQueuePrefix: prefix,
            report: { to: ['list@lists.example.org'], cc: [], from: 'Bootfarm <bot@example.org>', textOnly: true },
          },
        ],
      }),
  );
  return { result, workflowId, artifactsDir, outbox, built, flaked };
}
