/**
 * `bootfarm dashboard`: the dashboard as a deployment's service. It holds
 * the results database, the artifact store, a Temporal client (API labs'
 * completions, operator triggers) and the admin token; it checks each at
 * start (one line and exit 1 when one is unreachable), logs one line per
 * event to stdout, answers 503 while a dependency is down, and on SIGTERM
 * stops listening and lets the requests it is answering finish.
 */
import type { BootfarmConfig } from '../domain/config';
import { UserError } from '../domain/userError';
import { connectDb } from '../plumbing/db/connect';
import { DependencyWatch } from '../plumbing/dependencyWatch';
import { reason, serviceLog, type ServiceLog } from '../plumbing/serviceLog';
import { databaseDependency, openStore, storeDependency, temporalDependency } from '../plumbing/serviceDependencies';
import { describeTemporal, openClient, temporalSettings } from '../plumbing/temporal/connections';
import { operatorTriggers } from '../plumbing/temporal/triggers';
import { runDashboard, temporalUiUrl } from './main';

/** How long requests being answered may take to finish after SIGTERM. */
export const DASHBOARD_DRAIN_MS = 15_000;

function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  if (e.code === 'EADDRINUSE') return new UserError(`port ${port} on ${host} is already in use (--port)`);
  if (e.code === 'EADDRNOTAVAIL')
    return new UserError(`cannot listen on ${host}:${port}: ${host} is not an address of this machine (--host)`);
  if (e.code === 'EACCES') return new UserError(`cannot listen on ${host}:${port}: permission denied (--port)`);
  return e;
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runDashboardService(config: BootfarmConfig, opts: { log?: ServiceLog } = {}): Promise<number> {
  const log = opts.log ?? serviceLog('dashboard');
  const temporal = temporalSettings(config);
  const databaseUrl = config.database.url as string;
  const sql = await connectDb(databaseUrl);
  const closers: (() => Promise<unknown>)[] = [() => sql.end({ timeout: 5 })];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  let watch: DependencyWatch | undefined;
  let dashboard: Awaited<ReturnType<typeof runDashboard>>;
  try {
    const { client, connection, close } = await openClient(config, temporal);
    closers.push(close);
    const store = await openStore(config);
    closers.push(async () => store.close?.());
    watch = new DependencyWatch(
      [
        databaseDependency(sql, databaseUrl),
        temporalDependency(temporal.address, () =>
          connection.withDeadline(Date.now() + 5000, () => connection.workflowService.getSystemInfo({})),
        ),
        ...storeDependency(store, config),
      ],
      { log },
    );
    const { host, port } = config.dashboard;
    dashboard = await runDashboard(config, {
      sql,
      store,
      client,
      ...operatorTriggers(client, config),
      logError: (message, e) => log(`${message} ${reason(e)}`),
      unavailable: () => watch?.down() ?? [],
    }).catch((e: NodeJS.ErrnoException) => {
      throw listenError(e, host, port);
    });
    watch.start();
  } catch (e) {
    watch?.stop();
    await closeAll();
    throw e;
  }

  const stopped = new Promise<number>((resolve) => {
    let draining = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (draining) {
        log(`${sig} again: closing every connection now`);
        dashboard.server.closeAllConnections();
        return;
      }
      draining = true;
      log(
        `draining (${sig}): answering ${dashboard.inFlight()} request(s) in flight within ${DASHBOARD_DRAIN_MS / 1000}s, taking no new ones`,
      );
      void dashboard
        .stop(DASHBOARD_DRAIN_MS)
        .then(async () => {
          watch?.stop();
          await closeAll();
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          log('stopped');
          resolve(0);
        })
        .catch((e: unknown) => {
          log(`stopping failed: ${reason(e)}`);
          resolve(1);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // Said once SIGTERM drains: whoever waits for this line may stop the dashboard at once.
  log(
    `listening on ${dashboard.url} (operator API ${config.dashboard.adminToken ? 'on' : 'off: no admin token'}; Temporal ${describeTemporal(temporal)}; workflow links to ${temporalUiUrl(config)})`,
  );
  return stopped;
}
