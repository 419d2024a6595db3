import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_NAMES } from '../domain/searchAttributes';
import { startService, untilReady, type Service } from './childProcess';
import { findTool } from '../plumbing/tools';

export interface TemporalServer {
  address: string;
  uiUrl?: string;
  service: Service;
  stop(): Promise<void>;
}

/**
 * Fair sharing of boards between trees (docs/labs.md): task queues dispatch
 * by priority and then by fairness key in proportion to the keys' weights.
 * Priority is on by default; fairness needs `matching.enableFairness`. Both
 * order tasks within one partition only, so new tasks all go to the root
 * partition (one write partition; the four read partitions stay, so tasks
 * written before are still read). Measured: with four write partitions a
 * one-board queue hands tasks out in near-random order (BENCHMARKS.md).
 */
export const FAIR_QUEUE_SETTINGS = {
  'matching.enableFairness': 'true',
  'matching.numTaskqueueWritePartitions': '1',
} as const;

/**
 * How task queues hand out tasks: `fair` (Bootfarm's setting, above),
 * `fifo` (one write partition, no fairness: first come, first served within
 * a priority), `server-default` (four partitions, no fairness). The last two
 * only for measuring the alternatives (bench/fairness.ts).
 */
export type QueueDispatch = 'fair' | 'fifo' | 'server-default';

const QUEUE_DISPATCH: Record<QueueDispatch, Record<string, string>> = {
  fair: FAIR_QUEUE_SETTINGS,
  fifo: { 'matching.numTaskqueueWritePartitions': '1' },
  'server-default': {},
};

const dynamicConfigArgs = (settings: Record<string, string>) =>
  Object.entries(settings).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${v}`]);

/**
 * The Temporal CLI dev server, with Bootfarm's search attributes. The SDK's
 * own launcher gives up after a few seconds of start-up, which a loaded
 * machine exceeds, so this waits for the frontend to answer by itself.
 */
export async function startTemporal(opts: {
  port: number;
  uiPort?: number;
  dbFile?: string;
  logFile: string;
  headless?: boolean;
  /** default fair */
  queues?: QueueDispatch;
  /** the address to listen on and to reach it by (default 127.0.0.1) */
  host?: string;
  /** runs the server through this argv, say on a host of netHosts.ts */
  prefix?: string[];
}): Promise<TemporalServer> {
  const bin = findTool('temporal');
  const host = opts.host ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', host, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.dbFile) {
    // The CLI's default pragmas (rollback journal, synchronous=FULL) make every history write an fsync'd
    // journal round trip: a 120-config revision took 2.3x as long as in memory (BENCHMARKS.md). WAL with
    // synchronous=NORMAL survives a crash of the server process; only an OS crash can lose the last writes.
    args.push(
      '--db-filename',
      opts.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  }
  if (opts.headless || !opts.uiPort) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort), '--ui-disable-news-fetch');
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  // Workflows that fan out hundreds of children need a higher per-second start rate than the default.
  args.push('--dynamic-config-value', 'frontend.namespaceRPS=10000', '--dynamic-config-value', 'frontend.rps=10000');
  // A revision's StartChild tasks all lock the parent, which its children's completions keep busy; with the
  // default lock timeout they give up and back off for seconds, so 120 children started over 20 s instead of 2.
  args.push('--dynamic-config-value', 'history.cacheNonUserContextLockTimeout="5s"');
  args.push(...dynamicConfigArgs(QUEUE_DISPATCH[opts.queues ?? 'fair']));
  const service = startService('temporal', bin, args, opts.logFile, { prefix: opts.prefix });
  const address = `${host}:${opts.port}`;
  await untilReady(
    service,
    `Temporal dev server on ${address}`,
    async () => {
      const conn = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return true;
      } finally {
        await conn.close();
      }
    },
    90_000,
    300,
  );
  return {
    address,
    uiUrl: opts.uiPort && !opts.headless ? `http://${host}:${opts.uiPort}` : undefined,
    service,
    stop: () => service.stop(),
  };
}
