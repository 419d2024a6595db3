/**
 * One bisection on the run's real Temporal dev server with the real
 * activities: builds are real makes of the fixture kernel (in their box),
 * boots real QEMU boots, records go to PostgreSQL, the report to an outbox
 * (and an SMTP server when given).
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
import type { BisectResult } from '../../../domain/bisect';
import { bisect } from '../../../workflows/bisect';
import { uniqueId, type TestDatabase } from '../../harness/services';
import { withWorkers } from '../../workflows/workers';

export const bisectionConfig = parseConfig(`
trees:
  - { name: e2e, url: /srv/git/e2e.git, branches: [master], buildConfigs: [x86_64-defconfig] }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, memoryMb: 128, bootTimeout: 60s }
labs:
  - { name: local, adapter: qemu, platforms: [{ name: qemu-x86_64, capacity: 2 }], bootTimeout: 60s }
`);

export interface RealBisection {
  result: BisectResult;
  workflowId: string;
  /** the artifact store's directory and the outbox */
  artifactsDir: string;
  outbox: string;
}

/** Bisect `good..bad` of the fixture repo at `url` on x86_64-defconfig / qemu-x86_64, everything under `root`. */
export async function runRealBisection(opts: {
  root: string;
  db: TestDatabase;
  client: Client;
  url: string;
  good: string;
  bad: string;
  smtpUrl?: string;
  /** the builder's extra environment besides CCACHE_DIR */
  builderEnv?: Record<string, string>;
}): Promise<RealBisection> {
  const { root, db, client } = opts;
  const cfg = bisectionConfig;
  const artifactsDir = join(root, 'artifacts');
  const store = new DirStore(artifactsDir);
  const outbox = join(root, 'outbox');
  const prefix = `${uniqueId('e2e')}-`;
  const lab = cfg.labs[0];
  const workflowId = workflowIds.bisect('e2e', opts.bad, 'x86_64-defconfig', 'qemu-x86_64') + `:${uniqueId('')}`;
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
        activities: createBuildActivities({
          store,
          workDir: join(root, 'builder'),
          jobs: 2,
          builderName: 'e2e-builder',
          // its own mirrors, as a builder on another host: it has to make the revert commit itself
          git: { mirrorDir: join(root, 'builder-mirrors') },
          env: { CCACHE_DIR: join(root, 'ccache'), ...opts.builderEnv },
        }),
      },
      {
        taskQueue: `${prefix}lab-local`,
        activities: createLabActivities({ lab, store, workDir: join(root, 'lab') }),
        maxConcurrentActivityTaskExecutions: 2,
      },
    ],
    () =>
      client.workflow.execute(bisect, {
        taskQueue: `${prefix}bootfarm`,
        workflowId,
        args: [
          {
            tree: 'e2e',
            branch: 'master',
            url: opts.url,
            good: opts.good,
            bad: opts.bad,
            config: cfg.buildConfigs[0],
            target: { platform: cfg.platforms[0], lab },
            parallel: 2,
            verifyRuns: 2,
            taskQueuePrefix: prefix,
            report: { to: ['list@lists.example.org'], cc: [], from: 'Bootfarm <bot@example.org>', textOnly: true },
          },
        ],
      }),
  );
  return { result, workflowId, artifactsDir, outbox };
}
