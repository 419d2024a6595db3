/**
 * The Temporal SDK's own metrics (workflow and activity task latencies,
 * slots, polls, sticky cache …) come from its Rust core, which serves them
 * itself once the process's Runtime is installed with a Prometheus
 * exporter. The Runtime is one per process and installed once, before any
 * connection: whoever installs it passes these options.
 */
import { Runtime, type RuntimeOptions, type TelemetryOptions } from '@temporalio/worker';
import { MetricsPortError, assertMetricsPortFree } from './endpoint';

export const SDK_METRICS_WHAT = 'Temporal SDK metrics (metrics.temporalPort, --temporal-metrics-port)';

/** The SDK's exporter on host:port, with Prometheus's naming conventions (_total counters, seconds); none for port 0. */
export function sdkTelemetry(host: string, port: number): TelemetryOptions | undefined {
  if (!port) return undefined;
  return {
    metrics: {
      prometheus: {
        bindAddress: `${host.includes(':') ? `[${host}]` : host}:${port}`,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
  };
}

/** Runtime.install, with a port another process holds named in one line instead of the core's error. */
export async function installRuntime(
  options: RuntimeOptions,
  sdkMetrics?: { host: string; port: number },
): Promise<void> {
  if (sdkMetrics?.port) await assertMetricsPortFree(sdkMetrics.host, sdkMetrics.port, SDK_METRICS_WHAT);
  try {
    Runtime.install(options);
  } catch (e) {
    const message = (e as Error).message;
    if (sdkMetrics?.port && /prometheus|address/i.test(message))
      throw new MetricsPortError(sdkMetrics.host, sdkMetrics.port, SDK_METRICS_WHAT, message);
    throw e;
  }
}
