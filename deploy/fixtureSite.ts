/**
 * What the deployment on this machine tests: the fixture kernel tree with
 * the demo's story (stack/demo.ts: a boot regression in the debug config,
 * a build failure in tinyconfig), served by the git host, and the config
 * every Bootfarm service of the deployment reads: three build configs, two
 * QEMU labs and an API lab. Small kernels, so a revision with its
 * bisection takes about a minute.
 */
import { join } from 'node:path';
import type { TreeConfig } from '../domain/config';
import { headSha, type FixtureRepo } from '../fixtures/generator';
import { git } from '../plumbing/git/mirror';
import { DEMO_CULPRIT_SUBJECT, ensureDemoRepo, pushRegression } from '../stack/demo';
import { workflowIds } from '../domain/ids';
import type { HostsDeployment } from './hosts';
import { LABS, PORTS } from './topology';

export interface SiteTree {
  repo: FixtureRepo;
  /** the last commit that boots everywhere */
  good: string;
  /** the head after the regression's push */
  bad: string;
  /** the commit that broke the boot of the debug config */
  culprit: string;
  culpritSubject: string;
}

/** The fixture tree in `dir`: the demo's first push (good), then its second (bad). */
export async function createSiteTree(dir: string): Promise<SiteTree> {
  const { repo } = await ensureDemoRepo({ url: join(dir, 'fixture') } as TreeConfig);
  const good = await headSha(repo);
  const bad = await pushRegression(repo);
  const log = await git(['-C', repo.dir, 'log', '--format=%H %s', `${good}..${bad}`]);
  const culprit = log
    .split('\n')
    .find((l) => l.slice(41) === DEMO_CULPRIT_SUBJECT)
    ?.slice(0, 40);
  if (!culprit) throw new Error(`the demo's second push has no commit ${JSON.stringify(DEMO_CULPRIT_SUBJECT)}`);
  return { repo, good, bad, culprit, culpritSubject: DEMO_CULPRIT_SUBJECT };
}

export const SITE_REPOSITORY = 'fixture';
/** The build configs of each tree: name, arch, defconfig. */
export const SITE_CONFIGS: [string, string, string][] = [
  ['x86_64-defconfig', 'x86_64', 'defconfig'],
  ['x86_64-debug', 'x86_64', 'debug_defconfig'],
  ['i386-tinyconfig', 'i386', 'tinyconfig'],
];
export const REPORT_LIST = 'kernel-ci@lists.bootfarm.test';

/**
 * A tree's own name for a build config. Flake estimates and so the number of
 * confirmation boots are kept per (config, platform, lab) whatever the tree
 * (docs/reports.md): configs of their own keep one tree's runs from changing
 * the next one's.
 */
export const siteConfigName = (tree: string, config: string) => `${tree}-${config}`;

/**
 * The config text: one tree per name, all at git://git/fixture, each
 * monitoring a branch of its own name (absent until a test makes it, so no
 * monitor starts anything by itself), each with build configs of its own.
 */
export function siteConfig(trees: string[]): string {
  const tree = (name: string) => `
  - name: ${name}
    url: git://git:${PORTS.git}/${SITE_REPOSITORY}
    branches: [{ name: ${name}, interval: 1h }]
    buildConfigs: [${SITE_CONFIGS.map(([c]) => siteConfigName(name, c)).join(', ')}]
    concurrency: 3
    confirmations: 0
    report: { to: [${REPORT_LIST}], delay: 1h }
    bisect: { enabled: true, verifyRuns: 1, parallel: 2 }`;
  const configs = trees.flatMap((t) =>
    SITE_CONFIGS.map(
      ([c, arch, defconfig]) => `\n  - { name: ${siteConfigName(t, c)}, arch: ${arch}, defconfig: ${defconfig} }`,
    ),
  );
  return `# The deployment on this machine (deploy/fixtureSite.ts). Connection settings come from the environment.
builder: { ccache: false, jobs: 1 }
trees:${trees.map(tree).join('')}

buildConfigs:${configs.join('')}

platforms:
  - { name: qemu-x86_64, arch: x86_64, soc: qemu-pc, bootTimeout: 30s }
  - { name: qemu-i386, arch: i386, soc: qemu-pc, bootTimeout: 30s }

labs:
  # a worker that dies is noticed in 10 s; a retry nobody takes within 45 s is offline
  - name: ${LABS['lab-a']}
    adapter: qemu
    platforms: [{ name: qemu-x86_64, capacity: 2 }]
    heartbeatTimeout: 10s
    scheduleToStartTimeout: 45s
    offlineGrace: 5m
    attempts: 5
  # waits longer for a worker that went away: a boot waits out a cut link of a minute
  - name: ${LABS['lab-b']}
    adapter: qemu
    platforms: [{ name: qemu-x86_64, capacity: 2 }, { name: qemu-i386, capacity: 1 }]
    heartbeatTimeout: 15s
    scheduleToStartTimeout: 3m
    offlineGrace: 5m
    attempts: 5
  - name: ${LABS.api}
    adapter: api
    platforms: [qemu-x86_64]
    scheduleToStartTimeout: 2m
`;
}

/** A revision of the site and the bisection of its regression, started through the dashboard's operator API. */
export interface SiteRun {
  tree: string;
  revisionId: string;
  bisectionId: string;
  reportId: string;
  startedAt: number;
}

async function operatorPost(d: HostsDeployment, path: string, body: unknown): Promise<{ workflowId: string }> {
  const res = await fetch(`${d.dashboardUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.settings.BOOTFARM_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as { workflowId: string };
}

/**
 * Points the tree's branch (named like the tree) at the bad head, and starts
 * its revision and the bisection of the debug config's boot regression on
 * farm-b, as an operator would.
 */
export async function startSiteRun(d: HostsDeployment, site: SiteTree, tree: string): Promise<SiteRun> {
  await git(['-C', site.repo.dir, 'update-ref', `refs/heads/${tree}`, site.bad]);
  const startedAt = Date.now();
  const { workflowId: revisionId } = await operatorPost(d, '/api/revisions', { tree, branch: tree, commit: site.bad });
  const { workflowId: bisectionId } = await operatorPost(d, '/api/bisections', {
    tree,
    branch: tree,
    good: site.good,
    bad: site.bad,
    config: siteConfigName(tree, 'x86_64-debug'),
    platform: 'qemu-x86_64',
    lab: LABS['lab-b'],
  });
  return { tree, revisionId, bisectionId, reportId: workflowIds.report(tree, tree, site.bad), startedAt };
}

/** Waits until the revision, its reports and the bisection have ended; how long that took from the start. */
export async function finishSiteRun(d: HostsDeployment, run: SiteRun, timeoutMs = 900_000): Promise<number> {
  const result = (id: string) => d.temporal((c) => c.workflow.getHandle(id).result(), timeoutMs);
  // the report workflow exists once the revision has resolved its commit: waited for after the revision
  await Promise.all([result(run.revisionId), result(run.bisectionId)]);
  await result(run.reportId);
  const closed = await Promise.all(
    [run.revisionId, run.bisectionId, run.reportId].map((id) => d.temporal((c) => c.workflow.getHandle(id).describe())),
  );
  return Math.max(...closed.map((w) => (w.closeTime as Date).getTime())) - run.startedAt;
}
