import type { BootfarmConfig } from '../domain/config';
import { UserError } from './fail';

export interface MetricsPortOptions {
  metricsPort?: string;
  temporalMetricsPort?: string;
}

/** A port option: 0-65535, 0 turning the endpoint off. */
export function portOption(value: string, what: string, min = 0): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < min || n > 65535)
    throw new UserError(`${what}: expected a port number ${min}-65535, got ${JSON.stringify(value)}`);
  return n;
}

/** --metrics-port and --temporal-metrics-port over the config's metrics.port and metrics.temporalPort. */
export function applyMetricsPorts(config: BootfarmConfig, opts: MetricsPortOptions): void {
  if (opts.metricsPort !== undefined) config.metrics.port = portOption(opts.metricsPort, '--metrics-port');
  if (opts.temporalMetricsPort !== undefined)
    config.metrics.temporalPort = portOption(opts.temporalMetricsPort, '--temporal-metrics-port');
  if (config.metrics.port && config.metrics.port === config.metrics.temporalPort)
    throw new UserError(
      `--metrics-port and --temporal-metrics-port are both ${config.metrics.port}: each endpoint needs its own port`,
    );
}
