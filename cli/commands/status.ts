import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { NAME_PATTERN } from '../../domain/names';
import { formatDuration } from '../../domain/progress';
import type { BootfarmConfig } from '../../domain/config';
import type { RunningPipelines } from '../../dashboard/data/progress';
import { resolveConfig } from '../context';
import { lazy } from '../lazy';
import { runAction, UserError } from '../fail';

const dashboard = lazy((): typeof import('../dashboardApi') => require('../dashboardApi'));

const ago = (iso: string, now: number) => `${formatDuration(Math.max(0, (now - Date.parse(iso)) / 1000))} ago`;

/** What `bootfarm status` prints: each running revision and bisection, its progress in words, and where to look. */
export function formatStatus(p: RunningPipelines, base: string, now: number, tree?: string): string {
  const lines: string[] = [];
  if (!p.revisions.length && !p.bisections.length)
    return `Nothing${tree ? ` of tree ${tree}` : ''} is running: no revision is being built or booted, no bisection is running.\n`;
  if (p.revisions.length) lines.push(`Revisions running (${p.revisions.length}):`);
  for (const r of p.revisions) {
    lines.push(`  ${r.tree}/${r.branch} ${r.describe || r.sha.slice(0, 12)}, started ${ago(r.startedAt, now)}`);
    lines.push(`    ${r.text}`);
    lines.push(`    ${r.id !== null ? `${base}/revisions/${r.id}` : r.workflowId}`);
  }
  if (p.bisections.length) lines.push(`Bisections running (${p.bisections.length}):`);
  for (const b of p.bisections) {
    const where = b.config ? `${b.tree} ${b.config} on ${b.platform}${b.lab ? `@${b.lab}` : ''}` : b.workflowId;
    lines.push(`  ${where}, started ${ago(b.startedAt, now)}`);
    lines.push(`    ${b.text}`);
    lines.push(`    ${b.id !== null ? `${base}/bisections/${b.id}` : b.workflowId}`);
  }
  return lines.join('\n') + '\n';
}

async function fetchStatus(config: BootfarmConfig, tree?: string): Promise<string> {
  const api = dashboard();
  const path = `/api/progress${tree ? `?tree=${encodeURIComponent(tree)}` : ''}`;
  const { json } = await api.callDashboard<RunningPipelines>(config, 'GET', path);
  return formatStatus(json, api.dashboardUrl(config), Date.now(), tree);
}

export function registerStatusCommand(program: Command) {
  program
    .command('status')
    .description(
      'the running revisions and bisections with their progress (builds and boots done per lab, time left); --watch to follow',
    )
    .argument('[tree]', 'only this tree')
    .option('-c, --config <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)')
    .option('-w, --watch', 'print again every --interval seconds until Ctrl-C')
    .option('--interval <seconds>', 'with --watch: how often (1-3600)', '2')
    .action(
      runAction(async (tree: string | undefined, opts: { config?: string; watch?: boolean; interval: string }) => {
        if (tree !== undefined && !NAME_PATTERN.test(tree))
          throw new UserError(`tree ${JSON.stringify(tree)}: expected a name matching ${NAME_PATTERN.source}`);
        const interval = Number(opts.interval);
        if (!/^\d+$/.test(opts.interval) || interval < 1 || interval > 3600)
          throw new UserError(`--interval: expected 1 to 3600 seconds, got ${JSON.stringify(opts.interval)}`);
        const { config } = resolveConfig(opts.config);
        if (!opts.watch) {
          process.stdout.write(await fetchStatus(config, tree));
          return;
        }
        const ctrlC = new AbortController();
        process.once('SIGINT', () => ctrlC.abort());
        while (!ctrlC.signal.aborted) {
          const text = await fetchStatus(config, tree);
          // On a terminal, redraw in place; into a pipe, one timestamped block after another.
          process.stdout.write(
            process.stdout.isTTY ? `\x1b[H\x1b[2J${text}` : `--- ${new Date().toISOString()}\n${text}`,
          );
          await sleep(interval * 1000, undefined, { signal: ctrlC.signal }).catch(() => {});
        }
      }),
    );
}
