/**
 * The whole deployment as hosts on this machine (deploy/hosts.ts), for a
 * look around: every service in a network namespace of its own on a bridge,
 * the fixture tree served by the git host. Prints where everything is, runs
 * one revision and its bisection with --demo, and on Ctrl-C tears it all
 * down and checks that nothing is left (exit 1 if something is).
 *
 *   sudo npx tsx scripts/deploy-hosts.ts [--dir DIR] [--demo]
 *
 * Needs root, iproute2, QEMU and the Temporal server build
 * (node scripts/build-temporal.js).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startHostsDeployment, type HostsDeployment } from '../deploy/hosts';
import {
  createSiteTree,
  finishSiteRun,
  siteConfig,
  startSiteRun,
  SITE_REPOSITORY,
  type SiteTree,
} from '../deploy/fixtureSite';
import { PORTS } from '../deploy/topology';

const TREE = 'demo';

async function demo(d: HostsDeployment, tree: SiteTree, say: (line: string) => void): Promise<void> {
  const run = await startSiteRun(d, tree, TREE);
  say(`demo: revision ${run.revisionId} and bisection ${run.bisectionId} started`);
  const elapsed = await finishSiteRun(d, run);
  const r = (await d.temporal((c) => c.workflow.getHandle(run.bisectionId).result())) as {
    verdict: { summary: string };
  };
  say(`demo: revision, reports and bisection done after ${Math.round(elapsed / 1000)} s: ${r.verdict.summary}`);
}

async function main() {
  const argv = process.argv.slice(2);
  const dirFlag = argv.indexOf('--dir');
  const dir = dirFlag >= 0 ? resolve(argv[dirFlag + 1]) : mkdtempSync(join(tmpdir(), 'bootfarm-hosts-'));
  const t0 = Date.now();
  const say = (line: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);
  const tree = await createSiteTree(join(dir, 'tree'));
  const d = await startHostsDeployment({
    dir: join(dir, 'site'),
    config: siteConfig([TREE]),
    repositories: { [SITE_REPOSITORY]: tree.repo.dir },
    progress: say,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('tearing down…');
    const left = await d.teardown();
    const clean = !left.processes.length && !Object.values(left.resources).some((r) => r.length);
    say(clean ? 'nothing left' : `left behind: ${JSON.stringify(left)}`);
    process.exit(clean ? 0 : 1);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop());
  const secrets = join(dir, 'settings.json');
  writeFileSync(secrets, JSON.stringify(d.settings, null, 2), { mode: 0o600 });
  const lines = [
    `dashboard         ${d.dashboardUrl}`,
    `Temporal Web UI   ${d.settings.TEMPORAL_UI_URL}`,
    `Temporal          ${d.temporalAddresses().join(', ')}`,
    `results database  postgres://bootfarm:***@${d.address('results-db')}:${PORTS.postgres}/bootfarm`,
    `mail              ${d.mailDir}`,
    `logs              ${d.logDir}`,
    `settings          ${secrets} (the generated secrets)`,
    `hosts             ${d.hosts
      .list()
      .map((h) => `${h.name} ${h.address}`)
      .join(', ')}`,
    `enter a host      ip netns exec ${d.hosts.host('dashboard').namespace} bash`,
    `start-up          ${Math.round(d.startup.total / 1000)} s`,
  ];
  process.stdout.write(`\nThe deployment is up:\n  ${lines.join('\n  ')}\nCtrl-C tears it down.\n\n`);
  if (argv.includes('--demo')) await demo(d, tree, say).catch((e: Error) => say(`demo failed: ${e.message}`));
  await new Promise(() => {});
}

main().catch((e: Error) => {
  process.stderr.write(`deploy-hosts: ${e.message}\n`);
  process.exit(1);
});
