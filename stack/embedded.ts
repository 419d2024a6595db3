import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootfarmConfig, MetricsConfig } from '../domain/config';
import { assertPortFree } from './ports';
import { startTemporal, type TemporalServer } from './temporalServer';
import { startPostgres, type PostgresServer } from './postgres';
import { progress } from './progress';

export interface EmbeddedPorts {
  temporal: number;
  ui: number;
  postgres: number;
  dashboard: number;
}

export interface EmbeddedServices {
  temporal: TemporalServer;
  postgres: PostgresServer;
  databaseUrl: string;
  stop(): Promise<void>;
}

export class AlreadyRunningError extends Error {
  constructor(pid: number, dataDir: string) {
    super(`another \`bootfarm up\` (pid ${pid}) is using ${dataDir}; stop it first (Ctrl-C in its terminal)`);
    this.name = 'AlreadyRunningError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One `bootfarm up` per data directory: a pid file says who owns it. */
export function assertDataDirFree(dataDir: string): void {
  const pidFile = join(dataDir, 'up.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) throw new AlreadyRunningError(pid, dataDir);
  }
}

export function claimDataDir(dataDir: string): () => void {
  assertDataDirFree(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, 'up.pid');
  writeFileSync(pidFile, String(process.pid));
  return () => rmSync(pidFile, { force: true });
}

/** Checked before anything is created, so a taken port changes nothing. */
export async function checkPortsFree(
  ports: EmbeddedPorts,
  metrics?: Pick<MetricsConfig, 'host' | 'port' | 'temporalPort'>,
): Promise<void> {
  await assertPortFree(ports.temporal, 'Temporal frontend, --temporal-port');
  await assertPortFree(ports.ui, 'Temporal Web UI, --ui-port');
  await assertPortFree(ports.postgres, 'PostgreSQL, --pg-port');
  await assertPortFree(ports.dashboard, 'dashboard, --dashboard-port');
  if (metrics?.port) await assertPortFree(metrics.port, 'Bootfarm metrics, --metrics-port', metrics.host);
  if (metrics?.temporalPort)
    await assertPortFree(metrics.temporalPort, 'Temporal SDK metrics, --temporal-metrics-port', metrics.host);
}

/**
 * Temporal (SQLite file in the data dir, Web UI) and PostgreSQL (data in the
 * data dir), both kept between runs so a second start finds what the first
 * recorded.
 */
export async function startEmbeddedServices(config: BootfarmConfig, ports: EmbeddedPorts): Promise<EmbeddedServices> {
  const p = progress();
  const dataDir = config.dataDir;
  const logs = join(dataDir, 'logs');
  const started = await Promise.allSettled([
    p.step(`starting Temporal dev server on 127.0.0.1:${ports.temporal} (Web UI :${ports.ui})`, () =>
      startTemporal({
        port: ports.temporal,
        uiPort: ports.ui,
        dbFile: join(dataDir, 'temporal.sqlite'),
        logFile: join(logs, 'temporal.log'),
      }),
    ),
    p.step(`starting PostgreSQL on 127.0.0.1:${ports.postgres}`, () =>
      startPostgres({ dataDir: join(dataDir, 'postgres'), port: ports.postgres, logFile: join(logs, 'postgres.log') }),
    ),
  ]);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Whatever did start must not outlive this failed start.
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw failed.reason;
  }
  const [temporal, postgres] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    TemporalServer,
    PostgresServer,
  ];
  return {
    temporal,
    postgres,
    databaseUrl: postgres.url,
    async stop() {
      await Promise.all([temporal.stop(), postgres.stop()]);
    },
  };
}
