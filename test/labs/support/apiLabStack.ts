/**
 * The whole path of an API lab's boot on the run's dev server: an
 * orchestrator test worker (records, lab health), a builder of the fixture
 * tree, the api lab's activity on its board queue, and the dashboard whose
 * REST API the lab lists its jobs from and posts its results to. The lab
 * `farm` is registered with `token`.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createFixtureRepo, headSha } from '../../../fixtures/generator';
import { createBuildActivities } from '../../../activities/build/index';
import { createResultActivities } from '../../../activities/pipeline/records';
import { createLabHealthActivities } from '../../../activities/labs/health';
import { createApiLabActivities } from '../../../activities/labs/api';
import { DirStore } from '../../../plumbing/store/dirStore';
import { parseConfig } from '../../../plumbing/loadConfig';
import { hashLabToken } from '../../../plumbing/labToken';
import { boardQueue } from '../../../domain/pipelineSpec';
import type { BuildBootInput } from '../../../domain/types';
import { createDashboard } from '../../../dashboard/server';
import {
  freshDatabase,
  temporalAddress,
  temporalClient,
  testDir,
  testWorker,
  uniqueId,
  type TestDatabase,
} from '../../harness/services';

export interface ApiLabStack {
  db: TestDatabase;
  store: DirStore;
  /** the dashboard's base URL */
  base: string;
  /** the orchestrator's task queue: start buildBoot workflows on it */
  taskQueue: string;
  /** a build-boot of the fixture tree's head, without targets */
  input: Omit<BuildBootInput, 'targets'>;
  close(): Promise<void>;
}

export async function startApiLabStack(opts: { tree: string; token: string; platform: string }): Promise<ApiLabStack> {
  const cleanup: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of cleanup.reverse()) await c();
  };
  try {
    const db = await freshDatabase();
    cleanup.push(() => db.drop());
    const prefix = `${uniqueId(opts.tree)}-`;
    const taskQueue = uniqueId(`${opts.tree}-orch-`);
    const dir = mkdtempSync(join(testDir(), `${opts.tree}-`));
    const store = new DirStore(join(dir, 'artifacts'));
    const repo = await createFixtureRepo(join(dir, 'tree'));
    const input = {
      tree: opts.tree,
      url: repo.url,
      sha: await headSha(repo),
      describe: 'v0.1',
      config: parseConfig('buildConfigs:\n  - {name: x86_64-defconfig, arch: x86_64, defconfig: defconfig}\n')
        .buildConfigs[0],
      taskQueuePrefix: prefix,
    };
    await db.sql`insert into labs (name, adapter, token_hash) values ('farm', 'api', ${hashLabToken(opts.token)})`;
    const { client, close: closeClient } = await temporalClient();
    cleanup.push(closeClient);
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    cleanup.push(() => connection.close());
    const { worker: orchestrator, close: closeOrch } = await testWorker({
      taskQueue,
      activities: {
        ...createResultActivities({ sql: db.sql, store }),
        ...createLabHealthActivities({ client, sql: db.sql }),
      },
    });
    cleanup.push(closeOrch);
    const builder = await Worker.create({
      connection,
      taskQueue: `${prefix}build`,
      activities: createBuildActivities({
        store,
        workDir: join(dir, 'builder'),
        ccache: false,
        git: { mirrorDir: join(dir, 'mirrors') },
      }),
    });
    const apiLab = await Worker.create({
      connection,
      taskQueue: boardQueue({ taskQueuePrefix: prefix }, 'farm', opts.platform),
      activities: createApiLabActivities({ sql: db.sql }),
    });
    const workers = [orchestrator, builder, apiLab];
    const running = workers.map((w) => w.run());
    cleanup.push(async () => {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    });
    const dash = createDashboard({
      sql: db.sql,
      store,
      client,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: 'default',
    });
    const base = (await dash.listen(0)).url;
    cleanup.push(() => dash.close());
    // Lab health reads the queue's pollers: let the api worker poll once.
    await new Promise((r) => setTimeout(r, 1500));
    return { db, store, base, taskQueue, input, close };
  } catch (e) {
    await close();
    throw e;
  }
}
