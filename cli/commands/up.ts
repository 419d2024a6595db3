import type { Command } from 'commander';
import { migrate } from '../../activities/db/migrate';
import { connectDb } from '../../activities/db/connect';
import { assertDataDirFree, checkPortsFree, claimDataDir, startEmbeddedServices } from '../../stack/embedded';
import { progress } from '../../stack/progress';
import { startEmbeddedApp } from '../../workers/embeddedApp';
import { resolveConfig } from '../context';
import { runAction } from '../fail';

interface UpOptions {
  config?: string;
  dataDir?: string;
  temporalPort: string;
  uiPort: string;
  pgPort: string;
  dashboardPort: string;
  demo: boolean;
  realLinux?: boolean;
  exitAfterDemo?: boolean;
}

function port(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${what}: expected a port number 1-65535, got ${JSON.stringify(value)}`);
  return n;
}

export function registerUpCommand(program: Command) {
  program
    .command('up')
    .description(
      'start the embedded stack: Temporal dev server + Web UI, PostgreSQL, orchestrator, builder and lab workers, dashboard, and the demo tree',
    )
    .option('-c, --config <file>', 'config file (default ./bootfarm.yaml)')
    .option('--data-dir <dir>', 'where Temporal, PostgreSQL, artifacts and the outbox keep their state (default from config: .bootfarm)')
    .option('--temporal-port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .option('--pg-port <port>', 'PostgreSQL port', '5433')
    .option('--dashboard-port <port>', 'dashboard port', '8080')
    .option('--no-demo', 'do not generate or advance the demo tree')
    .option('--real-linux', 'also run the real-Linux demo (Debian linux-source, x86_64 and arm64)')
    .option('--exit-after-demo', 'stop everything once the demo pipeline and its bisection have finished (for scripted checks)')
    .action(
      runAction(async (opts: UpOptions) => {
        const { config } = resolveConfig(opts.config);
        if (opts.dataDir) config.dataDir = opts.dataDir;
        const ports = {
          temporal: port(opts.temporalPort, '--temporal-port'),
          ui: port(opts.uiPort, '--ui-port'),
          postgres: port(opts.pgPort, '--pg-port'),
          dashboard: port(opts.dashboardPort, '--dashboard-port'),
        };
        config.temporal.address = `127.0.0.1:${ports.temporal}`;
        config.temporal.uiPort = ports.ui;
        config.database.port = ports.postgres;
        config.dashboard.port = ports.dashboard;
        assertDataDirFree(config.dataDir);
        await checkPortsFree(ports);
        const release = claimDataDir(config.dataDir);
        const p = progress();
        const services = await startEmbeddedServices(config, ports).catch((e) => {
          release();
          throw e;
        });
        config.database.url = services.databaseUrl;
        let stopping = false;
        let app: Awaited<ReturnType<typeof startEmbeddedApp>> | undefined;
        const stop = async (code: number) => {
          if (stopping) return;
          stopping = true;
          p.info('stopping…');
          await app?.stop().catch((e) => p.info(`stopping workers: ${(e as Error).message}`));
          await services.stop();
          release();
          p.info('stopped');
          process.exit(code);
        };
        for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop(0));
        try {
          const sql = await connectDb(services.databaseUrl);
          const applied = await p.step('applying database migrations', () => migrate(sql));
          if (applied.length) p.info(`applied ${applied.join(', ')}`);
          await sql.end({ timeout: 5 });
          app = await startEmbeddedApp(config, { demo: opts.demo, realLinux: Boolean(opts.realLinux) });
          const dashboardUrl = `http://127.0.0.1:${ports.dashboard}`;
          process.stdout.write(
            [
              '',
              'Bootfarm is up:',
              `  dashboard        ${dashboardUrl}`,
              `  Temporal Web UI  ${services.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows`,
              `  Temporal         ${services.temporal.address}`,
              `  PostgreSQL       postgres://bootfarm:***@127.0.0.1:${ports.postgres}/bootfarm`,
              `  outbox           ${dashboardUrl}/outbox  (${config.email.outbox})`,
              `  logs             ${config.dataDir}/logs`,
              'Press Ctrl-C to stop everything.',
              '',
            ].join('\n'),
          );
          if (opts.demo) {
            const ok = await app.demoFinished;
            if (opts.exitAfterDemo) await stop(ok ? 0 : 1);
          }
        } catch (e) {
          p.info(`start-up failed: ${(e as Error).message}`);
          await stop(1);
        }
        // Keep running until a signal arrives.
        await new Promise(() => {});
      }),
    );
}
