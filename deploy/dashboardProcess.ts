/**
 * The dashboard as a service of its own, until `bootfarm dashboard` exists:
 * the config file of BOOTFARM_CONFIG with the environment's connection
 * settings, a Temporal client for the operator API and API-lab results,
 * listening on --host/--port. Drains on SIGTERM.
 *
 *   node --require tsx/cjs deploy/dashboardProcess.ts --host 0.0.0.0 --port 8080
 */
import { runDashboard } from '../dashboard/main';
import { loadConfig } from '../plumbing/loadConfig';
import { openClient } from '../plumbing/temporal/connections';
import { triggerBisection, triggerRevision } from '../plumbing/temporal/triggers';

async function main() {
  const argv = process.argv.slice(2);
  const flag = (f: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);
  const file = process.env.BOOTFARM_CONFIG;
  if (!file) throw new Error('BOOTFARM_CONFIG is not set');
  const config = loadConfig(file);
  if (flag('--port')) config.dashboard.port = Number(flag('--port'));
  const { client, close } = await openClient(config);
  const dashboard = await runDashboard(config, {
    client,
    host: flag('--host') ?? '127.0.0.1',
    startRevision: async (tree, branch, commit, force) => {
      const r = await triggerRevision(client, config, { tree, branch, commit, force });
      return { workflowId: r.workflowId, started: r.started };
    },
    startBisection: (req) => triggerBisection(client, config, req),
    cancelBisection: async (workflowId) => {
      await client.workflow.getHandle(workflowId).cancel();
    },
  });
  process.stdout.write(`dashboard: listening on ${dashboard.url}\n`);
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      void dashboard
        .stop()
        .then(close)
        .then(() => process.exit(0));
    });
}

main().catch((e: Error) => {
  process.stderr.write(`dashboard: ${e.message}\n`);
  process.exit(1);
});
