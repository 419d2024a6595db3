import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BootfarmConfig } from '../../domain/config';
import { progress } from '../../stack/progress';
import { lazy } from '../lazy';
import { resolveConfig } from '../context';
import { runAction } from '../fail';
import { portNumber } from '../ports';
import { adminTokenFile, generatedSecret } from '../../plumbing/secrets';
import { applyMetricsPorts, type MetricsPortOptions } from '../metricsPorts';

const embedded = lazy((): typeof import('../../stack/embedded') => require('../../stack/embedded'));
const app = lazy((): typeof import('../../workers/embeddedApp') => require('../../workers/embeddedApp'));
const db = lazy(() => ({
  ...(require('../../plumbing/db/migrate') as typeof import('../../plumbing/db/migrate')),
  ...(require('../../plumbing/db/connect') as typeof import('../../plumbing/db/connect')),
}));
const workerLog = lazy((): typeof import('../../stack/workerLog') => require('../../stack/workerLog'));

interface UpOptions extends MetricsPortOptions {
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

/** --data-dir moves every piece of local state with it. */
function rootStateAt(config: BootfarmConfig, dataDir: string) {
  config.dataDir = dataDir;
  if (config.artifacts.kind === 'dir') config.artifacts.path = join(dataDir, 'artifacts');
  config.email.outbox = join(dataDir, 'outbox');
  config.builder.workDir = join(dataDir, 'builder');
  const demo = config.demo ? config.trees.find((t) => t.name === 'demo') : undefined;
  if (demo) demo.url = join(dataDir, 'demo', 'fixture-linux');
}

function metricsLines(config: BootfarmConfig): string[] {
  const { host, port: bootfarm, temporalPort } = config.metrics;
  const url = (p: number) => `http://${host}:${p}/metrics`;
  return [
    ...(bootfarm ? [`  metrics          ${url(bootfarm)}  (Bootfarm; dashboard's own: /metrics)`] : []),
    ...(temporalPort ? [`  SDK metrics      ${url(temporalPort)}  (Temporal SDK)`] : []),
  ];
}

export function registerUpCommand(program: Command) {
  program
    .command('up')
    .description(
      'start the embedded stack: Temporal dev server + Web UI, PostgreSQL, orchestrator, builder and lab workers, dashboard, and the demo tree',
    )
    .option('-c, --config <file>', 'config file (default ./bootfarm.yaml)')
    .option(
      '--data-dir <dir>',
      'where Temporal, PostgreSQL, artifacts and the outbox keep their state (default from config: .bootfarm)',
    )
    .option('--temporal-port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .option('--pg-port <port>', 'PostgreSQL port', '5433')
    .option('--dashboard-port <port>', 'dashboard port', '8080')
    .option('--metrics-port <port>', "Bootfarm's Prometheus endpoint (default metrics.port, 9464; 0 = off)")
    .option(
      '--temporal-metrics-port <port>',
      "the Temporal SDK's Prometheus endpoint (default metrics.temporalPort, 9465; 0 = off)",
    )
    .option('--no-demo', 'do not generate or advance the demo tree')
    .option('--real-linux', 'also run the real-Linux demo (Debian linux-source, x86_64 and arm64)')
    .option(
      '--exit-after-demo',
      'stop everything once the demo pipeline and its bisection have finished (for scripted checks)',
    )
    .action(
      runAction(async (opts: UpOptions) => {
        const { config } = resolveConfig(opts.config);
        if (opts.dataDir) rootStateAt(config, resolve(opts.dataDir));
        const ports = {
          temporal: portNumber(opts.temporalPort, '--temporal-port'),
          ui: portNumber(opts.uiPort, '--ui-port'),
          postgres: portNumber(opts.pgPort, '--pg-port'),
          dashboard: portNumber(opts.dashboardPort, '--dashboard-port'),
        };
        config.temporal.address = `127.0.0.1:${ports.temporal}`;
        config.temporal.uiPort = ports.ui;
        config.database.port = ports.postgres;
        config.dashboard.port = ports.dashboard;
        applyMetricsPorts(config, opts);
        const { assertDataDirFree, checkPortsFree, claimDataDir, startEmbeddedServices } = embedded();
        assertDataDirFree(config.dataDir);
        await checkPortsFree(ports, config.metrics);
        const release = claimDataDir(config.dataDir);
        // No admin token given: one of its own, kept in the data directory (the CLI reads it there).
        const tokenFile = config.dashboard.adminToken ? undefined : adminTokenFile(config.dataDir);
        if (tokenFile) config.dashboard.adminToken = generatedSecret(tokenFile);
        await workerLog().installWorkerLog(join(config.dataDir, 'logs', 'workers.log'), {
          host: config.metrics.host,
          port: config.metrics.temporalPort,
        });
        const p = progress();
        const services = await startEmbeddedServices(config, ports).catch((e: unknown) => {
          release();
          throw e;
        });
        config.database.url = services.databaseUrl;
        let stopping = false;
        let running: Awaited<ReturnType<ReturnType<typeof app>['startEmbeddedApp']>> | undefined;
        const stop = async (code: number) => {
          if (stopping) return;
          stopping = true;
          p.info('stopping…');
          await running?.stop().catch((e) => p.info(`stopping workers: ${(e as Error).message}`));
          await services.stop();
          release();
          p.info('stopped');
          process.exit(code);
        };
        for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop(0));
        try {
          const sql = await db().connectDb(services.databaseUrl);
          const applied = await p.step('applying database migrations', () => db().migrate(sql));
          if (applied.length) p.info(`applied ${applied.join(', ')}`);
          await sql.end({ timeout: 5 });
          running = await app().startEmbeddedApp(config, { demo: opts.demo, realLinux: Boolean(opts.realLinux) });
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
              ...(tokenFile ? [`  admin token      ${tokenFile}`] : []),
              ...metricsLines(config),
              `  logs             ${config.dataDir}/logs`,
              'Press Ctrl-C to stop everything.',
              '',
            ].join('\n'),
          );
          if (opts.demo) {
            const ok = await running.demoFinished;
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
