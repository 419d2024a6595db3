import { markup, type SafeHtml } from './html';

export type LineKind = 'panic' | 'error' | 'warning';

/** What a maintainer scans a console or build log for, most serious first. */
const RULES: [RegExp, LineKind][] = [
  [/Kernel panic|\bOops\b|\bBUG:|Unable to handle kernel|general protection fault|Call Trace:/, 'panic'],
  [/\berror:|\*\*\* \[.*\] Error \d+|\bundefined reference to\b|\bfatal error\b/i, 'error'],
  [/\bWARNING:|\bwarning:/, 'warning'],
];

export function classifyLine(line: string): LineKind | null {
  for (const [re, kind] of RULES) if (re.test(line)) return kind;
  return null;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/** Terminal colours and control characters would only be noise in a page. */
export function cleanLine(line: string): string {
  return line.replace(/\r$/, '').replace(ANSI, '');
}

export interface LogView {
  html: SafeHtml;
  problems: { line: number; kind: LineKind; text: string }[];
  /** bytes left out at the start because the log is long */
  skippedBytes: number;
}

export const LOG_VIEW_LIMIT = 2 * 1024 * 1024;

/** A log as numbered, anchored lines (`#L12`), the interesting ones highlighted. */
export function renderLog(log: Buffer): LogView {
  const skippedBytes = Math.max(0, log.length - LOG_VIEW_LIMIT);
  const text = log.subarray(skippedBytes).toString('utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const problems: LogView['problems'] = [];
  const rendered = lines.map((raw, i) => {
    const n = i + 1;
    const line = cleanLine(raw);
    const kind = classifyLine(line);
    if (kind && problems.length < 50) problems.push({ line: n, kind, text: line.slice(0, 300) });
    const body = kind ? markup`<span class="hl-${kind}">${line}</span>` : line;
    return markup`<span id="L${n}"><a class="ln" href="#L${n}">${n}</a>${body}</span>\n`;
  });
  return { html: markup`<pre class="log" id="log">${rendered}</pre>`, problems, skippedBytes };
}
