/**
 * The SQL a request sends, and its plan: a postgres.js client whose `debug`
 * hook records each query while recording is on, and an EXPLAIN (ANALYZE,
 * BUFFERS) of each recorded query summed up in a few lines (the nodes that
 * read tables, the index each uses, rows, time and buffers), which is what
 * BENCHMARKS.md quotes.
 */
import type postgres from 'postgres';

export interface RecordedQuery {
  text: string;
  params: unknown[];
}

export class QueryRecorder {
  private recording: RecordedQuery[] | undefined;

  /** pass as the client's `debug` option */
  readonly hook = (_connection: number, text: string, params: unknown[]) => {
    if (this.recording && !/^\s*(begin|commit|rollback)\b/i.test(text)) this.recording.push({ text, params });
  };

  async during(run: () => Promise<unknown>): Promise<RecordedQuery[]> {
    this.recording = [];
    try {
      await run();
      return this.recording;
    } finally {
      this.recording = undefined;
    }
  }
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Actual Total Time'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Rows Removed by Filter'?: number;
  'Heap Fetches'?: number;
  'Sort Method'?: string;
  Plans?: PlanNode[];
}

export interface PlanSummary {
  /** the query's first line, shortened */
  query: string;
  executionMs: number;
  planningMs: number;
  /** one line per node that reads a table or sorts, indented by depth */
  lines: string[];
}

const SCAN = /Scan|Sort|Aggregate|Limit|Unique|Hash Join|Nested Loop|Merge Join|WindowAgg|Bitmap/;

function nodeLines(node: PlanNode, depth: number, out: string[]): void {
  if (SCAN.test(node['Node Type'])) {
    const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
    const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
    const loops = (node['Actual Loops'] ?? 1) > 1 ? ` loops=${node['Actual Loops']}` : '';
    const removed = node['Rows Removed by Filter'] ? ` removed by filter=${node['Rows Removed by Filter']}` : '';
    const heap = node['Heap Fetches'] !== undefined ? ` heap fetches=${node['Heap Fetches']}` : '';
    const sort = node['Sort Method'] ? ` (${node['Sort Method']})` : '';
    const buffers = `buffers hit=${node['Shared Hit Blocks'] ?? 0} read=${node['Shared Read Blocks'] ?? 0}`;
    out.push(
      `${'  '.repeat(depth)}${node['Node Type']}${on}${using}${sort}: rows=${node['Actual Rows']}${loops}${removed}${heap}, ${(node['Actual Total Time'] ?? 0).toFixed(1)} ms, ${buffers}`,
    );
    depth++;
  }
  for (const child of node.Plans ?? []) nodeLines(child, depth, out);
}

/** EXPLAIN (ANALYZE, BUFFERS) of a recorded query, run again with its parameters. */
export async function explain(sql: postgres.Sql, q: RecordedQuery): Promise<PlanSummary> {
  const [row] = await sql.unsafe(
    `explain (analyze, buffers, format json) ${q.text}`,
    q.params as postgres.ParameterOrJSON<never>[],
  );
  const [plan] = row['QUERY PLAN'] as { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }[];
  const lines: string[] = [];
  nodeLines(plan.Plan, 0, lines);
  return {
    query: q.text.replace(/\s+/g, ' ').trim().slice(0, 160),
    executionMs: plan['Execution Time'],
    planningMs: plan['Planning Time'],
    lines,
  };
}
