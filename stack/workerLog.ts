import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

/**
 * Workers log every activity with its full context; that belongs in a file,
 * not between the start-up progress lines. Warnings and errors still reach
 * the terminal, one line each.
 */
export function installWorkerLog(file: string): void {
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
  Runtime.install({ logger: new DefaultLogger('INFO', write) });
}
