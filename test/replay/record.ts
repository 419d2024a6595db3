/**
 * Real workflow histories for the replay test. The dev-server tests call
 * `keepHistory` on the runs worth keeping; it writes only when
 * BF_RECORD_HISTORIES=1 (scripts/record-histories.ts), so a normal test run
 * never rewrites the fixtures.
 *
 * A file holds the history as protobuf bytes (base64) plus a readable list
 * of its events for reviewing diffs. Not the proto-JSON of `temporal
 * workflow show`: the SDK's historyToJSON/historyFromJSON fail in this
 * install ("type must be a Type": @temporalio/common and @temporalio/proto
 * each load their own copy of protobufjs).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORIES_DIR = join(__dirname, 'histories');

const History = temporal.api.history.v1.History;
const eventName = (type: number | null | undefined) =>
  (temporal.api.enums.v1.EventType[type ?? 0] ?? String(type))
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());

export interface HistoryFile {
  workflowId: string;
  workflowType: string;
  /** what each event is, for humans reading a diff */
  events: string[];
  /** temporal.api.history.v1.History, protobuf-encoded, base64 */
  history: string;
}

export const recording = () => process.env.BF_RECORD_HISTORIES === '1';

export async function keepHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!recording()) return;
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const file: HistoryFile = {
    workflowId: handle.workflowId,
    workflowType: events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '',
    events: events.map((e) => `${e.eventId} ${eventName(e.eventType)}`),
    history: Buffer.from(History.encode(history).finish()).toString('base64'),
  };
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), JSON.stringify(file, null, 2) + '\n');
}

export function loadHistories(): (HistoryFile & { name: string; decoded: temporal.api.history.v1.History })[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = JSON.parse(readFileSync(join(HISTORIES_DIR, f), 'utf8')) as HistoryFile;
      return { ...file, name: f.replace(/\.json$/, ''), decoded: History.decode(Buffer.from(file.history, 'base64')) };
    });
}
