import type { Command } from 'commander';
import { lazy } from '../lazy';
import { serviceConfig } from '../context';
import { runAction } from '../fail';
import { exitWhenFlushed } from '../exit';
import { portNumber } from '../ports';

const service = lazy((): typeof import('../../dashboard/service') => require('../../dashboard/service'));

export function registerDashboardCommand(program: Command) {
  program
    .command('dashboard')
    .description(
      'run the dashboard and REST API (deployments): needs DATABASE_URL; the only service that holds the admin token; logs to stdout, drains on SIGTERM',
    )
    .option('-c, --config <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)')
    .option('--host <address>', 'address to listen on: 0.0.0.0 for every interface (default dashboard.host: 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free one (default dashboard.port: 8080)')
    .action(
      runAction(async (opts: { config?: string; host?: string; port?: string }) => {
        const { config } = serviceConfig('dashboard', opts.config);
        if (opts.host) config.dashboard.host = opts.host;
        if (opts.port !== undefined) config.dashboard.port = portNumber(opts.port, '--port', { anyFree: true });
        exitWhenFlushed(await service().runDashboardService(config));
      }),
    );
}
