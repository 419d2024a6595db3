import type { Command } from 'commander';
import { lazy } from '../lazy';
import { serviceConfig } from '../context';
import { runAction, UserError } from '../fail';
import { exitWhenFlushed } from '../exit';
import { applyMetricsPorts, type MetricsPortOptions } from '../metricsPorts';

interface WorkerOptions extends MetricsPortOptions {
  config?: string;
  lab?: string;
  arch?: string;
}

const WORKER_KINDS = ['orchestrator', 'builder', 'lab'] as const;
const workerProcess = lazy((): typeof import('../../workers/process') => require('../../workers/process'));

export function registerWorkerCommand(program: Command) {
  program
    .command('worker')
    .description(
      'run one worker kind in this process (deployments): orchestrator, builder, or lab --lab NAME; logs to stdout, drains on SIGTERM',
    )
    .argument('<kind>', WORKER_KINDS.join(' | '))
    .option('-c, --config <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)')
    .option('--lab <name>', 'for `lab`: the lab this worker serves (polls task queue lab-<name> only)')
    .option('--arch <arch>', 'for `builder`: also poll build-<arch>, for builders that specialise')
    .option('--metrics-port <port>', "Bootfarm's Prometheus endpoint (default metrics.port, 9464; 0 = off)")
    .option(
      '--temporal-metrics-port <port>',
      "the Temporal SDK's Prometheus endpoint (default metrics.temporalPort, 9465; 0 = off)",
    )
    .action(
      runAction(async (kind: string, opts: WorkerOptions) => {
        if (!(WORKER_KINDS as readonly string[]).includes(kind))
          throw new UserError(`unknown worker kind ${JSON.stringify(kind)}: expected ${WORKER_KINDS.join(', ')}`);
        if (kind === 'lab' && !opts.lab) throw new UserError('a lab worker needs --lab NAME');
        const { config } = serviceConfig(kind as (typeof WORKER_KINDS)[number], opts.config);
        applyMetricsPorts(config, opts);
        const code = await workerProcess().runWorkerProcess(kind as (typeof WORKER_KINDS)[number], config, {
          lab: opts.lab,
          arch: opts.arch,
        });
        exitWhenFlushed(code);
      }),
    );
}
