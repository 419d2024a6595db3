/**
 * End to end on the run's real Temporal dev server: the bisect workflow
 * drives the real buildBoot workflow, whose builds are real makes of the
 * fixture kernel and whose boots are real QEMU boots, then verifies and
 * reverts the culprit, records it in PostgreSQL and mails it into an outbox.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { createBisectActivities } from '../../activities/bisect';
import { createBuildActivities } from '../../activities/build/index';
import { createLabActivities } from '../../activities/labs';
import { createLabHealthActivities } from '../../activities/labs/health';
import { createResultActivities } from '../../activities/pipeline/records';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import { DirStore } from '../../plumbing/store/dirStore';
import { linearHistory } from '../../fixtures/generator';
import { parseConfig } from '../../plumbing/loadConfig';
import { workflowIds } from '../../domain/ids';
import { bisect } from '../../workflows/bisect';
import { freshDatabase, temporalClient, uniqueId, type TestDatabase } from '../harness/services';
import { withWorkers } from '../workflows/workers';

const cfg = parseConfig(`
trees:
  - { name: e2e, url: /srv/git/e2e.git, branches: [master], buildConfigs: [x86_64-defconfig] }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, memoryMb: 128, bootTimeout: 60s }
labs:
  - { name: local, adapter: qemu, platforms: [{ name: qemu-x86_64, capacity: 2 }], bootTimeout: 60s }
`);

let root: string;
let db: TestDatabase;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-e2e-'));
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

it('bisects a real boot regression with real builds and QEMU boots to its culprit, confirms it, and mails its author', async () => {
  const ann = { name: 'Ann Developer', email: 'ann@example.org' };
  const { repo, shas } = await linearHistory(join(root, 'repo'), 6, {
    4: { subject: 'x86: fixture: panic in early init', effect: 'break-boot', author: ann },
  });
  const store = new DirStore(join(root, 'artifacts'));
  const mirrorDir = join(root, 'mirrors');
  const outbox = join(root, 'outbox');
  const prefix = `${uniqueId('e2e')}-`;
  const lab = cfg.labs[0];
  const { client, close } = await temporalClient();
  try {
    const workflowId = workflowIds.bisect('e2e', shas[6], 'x86_64-defconfig', 'qemu-x86_64') + `:${uniqueId('')}`;
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
              mirrorDir,
              store,
              outboxDir: outbox,
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
            env: { CCACHE_DIR: join(root, 'ccache') },
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
              url: repo.url,
              good: shas[1],
              bad: shas[6],
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

    expect(result.verdict).toMatchObject({
      status: 'found',
      confirmed: true,
      culprit: { sha: shas[4], subject: 'x86: fixture: panic in early init' },
    });
    expect(result.verdict.checks.map((c) => c.outcome)).toEqual(['passed', 'passed', 'passed']);
    // the steps were real builds and boots, recorded by buildBoot
    const boots = await db.sql`select sha, status, run from boots where tree = 'e2e' order by sha, run`;
    const culpritBoots = boots.filter((b) => b.sha === shas[4]).map((b) => b.status);
    expect(culpritBoots.length).toBeGreaterThanOrEqual(2); // verify runs 0 and 1 (a search step's run 0 shares the row)
    expect(new Set(culpritBoots)).toEqual(new Set(['fail']));
    expect(boots.some((b) => b.sha === shas[3] && b.status === 'pass')).toBe(true);
    const [row] = await db.sql`select status, culprit_sha from bisections where workflow_id = ${workflowId}`;
    expect(row).toEqual({ status: 'found', culprit_sha: shas[4] });

    const name = (await readdir(outbox))[0];
    const mail = await simpleParser(await readFile(join(outbox, name)));
    expect(JSON.stringify(mail.to)).toContain('ann@example.org');
    expect(mail.text).toContain('Kernel panic - not syncing: fixture: x86: fixture: panic in');
  } finally {
    await close();
  }
});
