/**
 * End to end on the run's real Temporal dev server: the bisect workflow
 * drives the real buildBoot workflow, whose builds are real makes of the
 * fixture kernel and whose boots are real QEMU boots, then verifies and
 * reverts the culprit, records it in PostgreSQL and mails it into an outbox.
 * The second bisection runs on a board that fails 1 boot in 5 (seeded: the
 * real boot happens, the board then "loses" it) over a history whose panic
 * was introduced, fixed, and introduced again. About a minute in all.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Client } from '@temporalio/client';
import { createBisectActivities } from '../../activities/bisect';
import { createBuildActivities } from '../../activities/build/index';
import { createLabActivities } from '../../activities/labs';
import { createLabHealthActivities } from '../../activities/labs/health';
import { createResultActivities } from '../../activities/pipeline/records';
import { createWorkflowLookupActivities } from '../../activities/pipeline/workflowLookup';
import { DirStore } from '../../plumbing/store/dirStore';
import { linearHistory } from '../../fixtures/generator';
import { parseConfig } from '../../plumbing/loadConfig';
import { sha12, workflowIds } from '../../domain/ids';
import type { BisectInput, BisectResult } from '../../domain/bisect';
import type { BootRequest, BuildRequest } from '../../domain/types';
import { bisect } from '../../workflows/bisect';
import { freshDatabase, temporalClient, uniqueId, type TestDatabase } from '../harness/services';
import { withWorkers } from '../workflows/workers';
import { bootPlace, flakes } from './support/flakyBoard';
import { bisectConfigYaml } from './support/config';

const cfg = parseConfig(
  bisectConfigYaml({
    tree: 'e2e',
    platformOptions: 'memoryMb: 128, bootTimeout: 60s',
    labPlatform: '{ name: qemu-x86_64, capacity: 2 }',
    labOptions: 'bootTimeout: 60s',
  }),
);
const ann = { name: 'Ann Developer', email: 'ann@example.org' };
const report = { to: ['list@lists.example.org'], cc: [], from: 'Bootfarm <bot@example.org>', textOnly: true };

let root: string;
let db: TestDatabase;
let client: Client;
let closeClient: () => Promise<void>;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-e2e-'));
  db = await freshDatabase();
  ({ client, close: closeClient } = await temporalClient());
});
afterAll(async () => {
  await closeClient?.();
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

interface Board {
  /** the real boot passed, and the board fails it anyway: seeded, by the boot's place in the bisection */
  flaky?: { seed: number; rate: number; shas: string[] };
}

/**
 * One bisection of `tree` on the whole stack: orchestrator, builder (its own
 * mirrors, as on another host), the QEMU lab. Returns the result, the
 * commits the builder built, and the boots the board failed on purpose.
 */
async function bisectOnStack(
  tree: string,
  input: Omit<BisectInput, 'tree' | 'config' | 'target' | 'taskQueuePrefix' | 'report' | 'url'> & { url: string },
  board: Board = {},
): Promise<{ result: BisectResult; workflowId: string; built: string[]; flaked: string[]; outbox: string }> {
  const dir = join(root, tree);
  const store = new DirStore(join(dir, 'artifacts'));
  const outbox = join(dir, 'outbox');
  const prefix = `${uniqueId('e2e')}-`;
  const lab = cfg.labs[0];
  const built: string[] = [];
  const flaked: string[] = [];
  const builder = createBuildActivities({
    store,
    workDir: join(dir, 'builder'),
    jobs: 2,
    builderName: 'e2e-builder',
    git: { mirrorDir: join(dir, 'builder-mirrors') },
    env: { CCACHE_DIR: join(root, 'ccache') },
  });
  const labActs = createLabActivities({ lab, store, workDir: join(dir, 'lab') });
  const workflowId = workflowIds.bisect(tree, input.bad, 'x86_64-defconfig', 'qemu-x86_64') + `:${uniqueId('')}`;
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
            mirrorDir: join(dir, 'mirrors'),
            store,
            outboxDir: outbox,
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
        taskQueue: `${prefix}lab-local`,
        activities: {
          ...labActs,
          async bootKernel(req: BootRequest) {
            const r = await labActs.bootKernel(req);
            const { flaky } = board;
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
            config: cfg.buildConfigs[0],
            target: { platform: cfg.platforms[0], lab },
            taskQueuePrefix: prefix,
            report,
            ...input,
          },
        ],
      }),
  );
  return { result, workflowId, built, flaked, outbox };
}

async function theMail(outbox: string) {
  const name = (await readdir(outbox))[0];
  return simpleParser(await readFile(join(outbox, name)));
}

it('bisects a real boot regression with real builds and QEMU boots to its culprit, confirms it, and mails its author', async () => {
  const { repo, shas } = await linearHistory(join(root, 'repo'), 6, {
    4: { subject: 'x86: fixture: panic in early init', effect: 'break-boot', author: ann },
  });
  const { result, workflowId, built, outbox } = await bisectOnStack('e2e', {
    url: repo.url,
    good: shas[1],
    bad: shas[6],
    parallel: 2,
    verifyRuns: 2,
  });

  expect(result.verdict).toMatchObject({
    status: 'found',
    confirmed: true,
    culprit: { sha: shas[4], subject: 'x86: fixture: panic in early init' },
  });
  expect(result.verdict.checks.map((c) => c.outcome)).toEqual(['passed', 'passed', 'passed']);
  // the culprit's verification booted the build its search step made: no commit was built twice
  expect(new Set(built).size).toBe(built.length);
  // the steps were real builds and boots, recorded by buildBoot
  const boots = await db.sql`select sha, status, run from boots where tree = 'e2e' order by sha, run`;
  const culpritBoots = boots.filter((b) => b.sha === shas[4]).map((b) => b.status);
  expect(culpritBoots.length).toBeGreaterThanOrEqual(2); // verify runs 0 and 1 (a search step's run 0 shares the row)
  expect(new Set(culpritBoots)).toEqual(new Set(['fail']));
  expect(boots.some((b) => b.sha === shas[3] && b.status === 'pass')).toBe(true);
  const [row] = await db.sql`select status, culprit_sha from bisections where workflow_id = ${workflowId}`;
  expect(row).toEqual({ status: 'found', culprit_sha: shas[4] });

  const mail = await theMail(outbox);
  expect(JSON.stringify(mail.to)).toContain('ann@example.org');
  expect(mail.text).toContain('Kernel panic - not syncing: fixture: x86: fixture: panic in');
});

it('on a board failing 1 boot in 5, over a panic that came, went and came back, names the breakage nearest the bad commit and says the history is not monotonic', async () => {
  // 2 panics, 4 fixes it, 8 panics again; k-section of 1..9 with 2 boards tests 3 (fails) and 6 (boots) first
  const { repo, shas } = await linearHistory(join(root, 'bfb-repo'), 9, {
    2: { subject: 'fixture: gadget panics at boot', effect: 'break-boot' },
    4: { subject: 'fixture: gadget no longer panics', effect: 'fix-boot' },
    8: { subject: 'x86: fixture: widget panics at boot', effect: 'break-boot', author: ann },
  });
  const { result, built, flaked, outbox } = await bisectOnStack(
    'bfb',
    { url: repo.url, good: shas[0], bad: shas[9], parallel: 2, verifyRuns: 2, flakeRate: 0.2 },
    { flaky: { seed: 7, rate: 0.2, shas } },
  );
  // the board did lie during this bisection, and the bisection was not fooled
  expect(flaked.length).toBeGreaterThan(0);
  expect(result.verdict).toMatchObject({
    status: 'found',
    confirmed: true,
    culprit: { sha: shas[8] },
    nonMonotonic: [{ bad: shas[3], good: shas[6], goodBefore: shas[0] }],
  });
  // told the flake rate: every search step booted at least twice; builds were made once per commit
  for (const s of result.steps.filter((x) => x.role === 'candidate')) expect(s.boots).toBeGreaterThanOrEqual(2);
  expect(new Set(built).size).toBe(built.length);
  const mail = await theMail(outbox);
  expect(mail.subject).toContain('[not monotonic]');
  expect(mail.text).toContain(`fixed: ${sha12(shas[3])} fails, its descendant ${sha12(shas[6])} boots`);
});
