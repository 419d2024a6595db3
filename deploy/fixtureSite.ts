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
export const SITE_CONFIGS = ['x86_64-defconfig', 'x86_64-debug', 'i386-tinyconfig'];
export const REPORT_LIST = 'kernel-ci@lists.bootfarm.test';

/**
 * The config text: one tree per name, all at git://git/fixture, each
 * monitoring a branch of its own name (absent until a test makes it, so no
 * monitor starts anything by itself).
 */
export function siteConfig(trees: string[]): string {
  const tree = (name: string) => `
  - name: ${name}
    url: git://git:${PORTS.git}/${SITE_REPOSITORY}
    branches: [{ name: ${name}, interval: 1h }]
    buildConfigs: [${SITE_CONFIGS.join(', ')}]
    concurrency: 3
    confirmations: 0
    report: { to: [${REPORT_LIST}], delay: 1h }
    bisect: { enabled: true, verifyRuns: 1, parallel: 2 }`;
  return `# The deployment on this machine (deploy/fixtureSite.ts). Connection settings come from the environment.
builder: { ccache: false, jobs: 1 }
trees:${trees.map(tree).join('')}

buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
  - { name: x86_64-debug, arch: x86_64, defconfig: debug_defconfig }
  - { name: i386-tinyconfig, arch: i386, defconfig: tinyconfig }

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
    retries: 5
  # waits longer for a worker that went away: a boot waits out a cut link of a minute
  - name: ${LABS['lab-b']}
    adapter: qemu
    platforms: [{ name: qemu-x86_64, capacity: 2 }, { name: qemu-i386, capacity: 1 }]
    heartbeatTimeout: 15s
    scheduleToStartTimeout: 3m
    offlineGrace: 5m
    retries: 5
  - name: ${LABS.api}
    adapter: api
    platforms: [qemu-x86_64]
    scheduleToStartTimeout: 2m
`;
}
