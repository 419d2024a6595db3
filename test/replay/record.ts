/**
 * Saving real workflow histories for the replay test. The dev-server tests
 * call `keepHistory` on the runs worth keeping; it writes only when
 * BF_RECORD_HISTORIES=1 (see scripts/record-histories.ts), so a normal test
 * run never rewrites the fixtures.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';

export const HISTORIES_DIR = join(__dirname, 'histories');

export const recording = () => process.env.BF_RECORD_HISTORIES === '1';

export async function keepHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!recording()) return;
  const history = await handle.fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), historyToJSON(history) + '\n');
}
