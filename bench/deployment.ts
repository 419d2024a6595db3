/**
 * bench/deployment: the same fault-free revision on the deployment's hosts
 * (deploy/hosts.ts) with the Temporal server cluster (two nodes on
 * PostgreSQL) and with the Temporal CLI's dev server in its place (a SQLite
 * file, as `npm start` runs it), everything else the same: the fixture
 * tree's regression push (three build configs, boots on two QEMU labs and
 * the API lab) and the bisection of its boot regression.
 *
 *   sudo npx tsx bench/deployment.ts [--runs 3] [--order cluster,dev-server]
 *
 * Prints each deployment's start-up (per phase) and, per run, the time from
 * the trigger until the revision, its reports and its bisection have ended,
 * with the load average around it; then the medians side by side.
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startHostsDeployment } from '../deploy/hosts';
import { createSiteTree, finishSiteRun, siteConfig, startSiteRun, SITE_REPOSITORY } from '../deploy/fixtureSite';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, order: { type: 'string', default: 'cluster,dev-server' } },
});
const runs = Number(values.runs);
const modes = (values.order as string).split(',') as ('cluster' | 'dev-server')[];
if (!Number.isInteger(runs) || runs < 1 || modes.some((m) => m !== 'cluster' && m !== 'dev-server'))
  throw new Error('usage: bench/deployment.ts [--runs N] [--order cluster,dev-server]');

const load = () => loadavg()[0].toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-deployment-'));
  const site = await createSiteTree(join(dir, 'tree'));
  const trees = Array.from({ length: runs }, (_, i) => `run-${i + 1}`);
  const results: Record<string, number[]> = {};
  for (const mode of modes) {
    const t0 = Date.now();
    const d = await startHostsDeployment({
      dir: join(dir, mode),
      config: siteConfig(trees),
      repositories: { [SITE_REPOSITORY]: site.repo.dir },
      temporal: mode,
      progress: (line) => process.stderr.write(`[${mode} ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`),
    });
    try {
      const phases = Object.entries(d.startup)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`)
        .join(', ');
      process.stdout.write(`${mode}: start-up ${phases} (load ${load()})\n`);
      results[mode] = [];
      for (const tree of trees) {
        const before = load();
        const elapsed = await finishSiteRun(d, await startSiteRun(d, site, tree));
        results[mode].push(elapsed);
        process.stdout.write(`${mode}: ${tree} ${(elapsed / 1000).toFixed(1)}s (load ${before} → ${load()})\n`);
      }
    } finally {
      const left = await d.teardown();
      if (left.processes.length) process.stdout.write(`${mode}: left behind ${JSON.stringify(left)}\n`);
    }
  }
  process.stdout.write('\nrevision + reports + bisection, median of runs:\n');
  for (const mode of modes)
    process.stdout.write(
      `  ${mode.padEnd(10)} ${(median(results[mode]) / 1000).toFixed(1)}s  (${results[mode].map((x) => (x / 1000).toFixed(1)).join(', ')})\n`,
    );
}

main().catch((e: Error) => {
  process.stderr.write(`bench/deployment: ${e.stack}\n`);
  process.exit(1);
});
