import { existsSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { BootfarmConfig, TreeConfig } from '../domain/config';
import {
  commitChange,
  createBranch,
  createFixtureRepo,
  type FixtureCommitSpec,
  type FixtureRepo,
} from '../fixtures/generator';
import { git } from '../plumbing/git/mirror';

/**
 * The demo tree's story, told in two pushes. The first history builds and
 * boots everywhere (one commit adds a compiler warning). The second push
 * holds the culprit: a commit that panics at boot, but only in kernels built
 * with CONFIG_DEBUG_EXTRA (the x86_64-debug config), and a commit that breaks
 * the build of the size-optimised tinyconfig. Its pipeline shows passing and
 * failing builds and boots, a boot regression reported first, and a
 * bisection that names the culprit and mails its author.
 */
export const DEMO_CULPRIT_SUBJECT = 'x86/debug: verify the early stack canary at boot';

const FIRST_PUSH: FixtureCommitSpec[] = [
  { subject: 'init: print the command line earlier' },
  { subject: 'lib/string: add a strscpy fast path', effect: 'add-warning' },
  { subject: 'mm: document the early page allocator' },
];

const JANE = { name: 'Jane Hacker', email: 'jane.hacker@fixture.example.org' };
const SECOND_PUSH: FixtureCommitSpec[] = [
  { subject: 'serial: 8250: tidy up the console setup' },
  { subject: 'sched: comment the idle loop' },
  {
    subject: DEMO_CULPRIT_SUBJECT,
    effect: 'break-boot',
    onlyWith: 'CONFIG_DEBUG_EXTRA',
    author: JANE,
    trailers: [
      `Signed-off-by: ${JANE.name} <${JANE.email}>`,
      'Reviewed-by: Rob Reviewer <rob.reviewer@fixture.example.org>',
    ],
  },
  { subject: 'lib: fix a typo in a comment' },
  { subject: 'kbuild: size-optimised string helpers', effect: 'break-build', onlyWith: 'CONFIG_CC_OPTIMIZE_FOR_SIZE' },
  { subject: 'drivers: fixture: simplify the probe path' },
];

export function demoTree(config: BootfarmConfig): TreeConfig | undefined {
  return config.demo ? config.trees.find((t) => t.name === 'demo') : undefined;
}

async function commitCount(repo: FixtureRepo): Promise<number> {
  return Number((await git(['-C', repo.dir, 'rev-list', '--count', 'HEAD'])).trim());
}

/** Creates the demo repository on first use; returns its head and how far the story has gone. */
export async function ensureDemoRepo(tree: TreeConfig): Promise<{ repo: FixtureRepo; stage: 1 | 2 }> {
  const repo: FixtureRepo = existsSync(tree.url) ? { dir: tree.url, url: tree.url } : await createFixtureRepo(tree.url);
  const count = await commitCount(repo);
  if (count === 1) for (const c of FIRST_PUSH) await commitChange(repo, c);
  return { repo, stage: count > 1 + FIRST_PUSH.length ? 2 : 1 };
}

/** The second push: the regression arrives, all commits at once (as a `git push` would), so no poll sees half of it. */
export async function pushRegression(repo: FixtureRepo, branch = 'master'): Promise<string> {
  const staging = 'bootfarm-demo-push';
  await createBranch(repo, staging, branch);
  let head = '';
  for (const c of SECOND_PUSH) head = await commitChange(repo, c, { branch: staging });
  await git(['-C', repo.dir, 'update-ref', `refs/heads/${branch}`, head]);
  await git(['-C', repo.dir, 'branch', '-D', staging]);
  return head;
}

/** Resolves with the workflow's result, or undefined when it failed. */
export async function outcome(client: Client, workflowId: string): Promise<unknown> {
  try {
    return await client.workflow.getHandle(workflowId).result();
  } catch {
    return undefined;
  }
}
