import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { installRuntime, sdkTelemetry } from '../plumbing/metrics/sdkRuntime';

/**
 * Workers log every activity with its full context; that belongs in a file,
 * not between the start-up progress lines. Warnings and errors still reach
 * the terminal, one line each. With `sdkMetrics`, the same Runtime serves
 * the Temporal SDK's metrics for Prometheus (a taken port: one-line error).
 */
export async function installWorkerLog(file: string, sdkMetrics?: { host: string; port: number }): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const out = createWriteStream(file, { flags: 'a' });
  const write = (entry: LogEntry) => {
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    out.write(
      `${time} ${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {}, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`,
    );
    // A worker that serves only activities says so at start; that is by design here.
    if ((entry.level === 'WARN' && !entry.message.startsWith('No workflows registered')) || entry.level === 'ERROR') {
      const meta = entry.meta as Record<string, unknown> | undefined;
      const where = [meta?.workflowId, meta?.activityType].filter(Boolean).join(' ');
      const err = meta?.error instanceof Error ? `: ${meta.error.message}` : '';
      process.stderr.write(
        `bootfarm: ${entry.level.toLowerCase()}: ${entry.message}${where ? ` (${where})` : ''}${err}\n`,
      );
    }
  };
  const telemetryOptions = sdkMetrics && sdkTelemetry(sdkMetrics.host, sdkMetrics.port);
  await installRuntime(
    { logger: new DefaultLogger('INFO', write), ...(telemetryOptions ? { telemetryOptions } : {}) },
    sdkMetrics,
  );
}

/** The meta fields worth a log line's room: where it happened, not the whole context. */
const WHERE_FIELDS = ['taskQueue', 'workflowId', 'activityType', 'attempt', 'state'] as const;

/**
 * The Temporal SDK's log of a service process (`bootfarm worker …`), one line
 * per event through `log` (stdout). The SDK's own retries of a call (polls,
 * completions) while the server is away are left out: the service's dependency watch says once that
 * Temporal is unreachable and once that it is back. Errors show their message,
 * not their stack. Signals are the service's to handle (it drains), not the
 * runtime's.
 */
export async function installServiceWorkerLog(
  log: (line: string) => void,
  sdkMetrics?: { host: string; port: number },
): Promise<void> {
  const write = (entry: LogEntry) => {
    const meta = (entry.meta ?? {}) as Record<string, unknown>;
    // what a worker says at every start by design, and webpack's statistics of the workflow bundle
    if (/^(No workflows registered|No Nexus services registered|asset workflow-bundle)/.test(entry.message)) return;
    if (meta.sdkComponent === 'core' && /^gRPC call \w+ retried \d+ times/.test(entry.message)) return;
    const where = WHERE_FIELDS.filter((k) => meta[k] !== undefined && meta[k] !== '')
      .map((k) => `${k}=${String(meta[k])}`)
      .join(' ');
    const err = meta.error instanceof Error ? meta.error.message.split('\n')[0] : undefined;
    log(`${entry.level.toLowerCase()}: ${entry.message}${where ? ` (${where})` : ''}${err ? `: ${err}` : ''}`);
  };
  const metrics = sdkMetrics && sdkTelemetry(sdkMetrics.host, sdkMetrics.port);
  await installRuntime(
    {
      logger: new DefaultLogger('INFO', write),
      telemetryOptions: { logging: { filter: 'WARN', forward: {} }, ...metrics },
      shutdownSignals: [],
    },
    sdkMetrics,
  );
}
