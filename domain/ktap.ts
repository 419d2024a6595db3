/**
 * KTAP, the kernel's Test Anything Protocol (Documentation/dev-tools/ktap.rst),
 * parsed into one result per test with a dotted path. Pure code (no I/O, no
 * clock), so workflows can import it.
 *
 * What it reads, as kernels and kselftest really print it:
 * - `KTAP version 1`, `TAP version 13|14` headers, plans `1..N` (before or,
 *   TAP-style, after the results; `1..0 # SKIP why` skips everything),
 *   results `ok|not ok N [- ]name [# DIRECTIVE data]`, `# ` diagnostics and
 *   any other ("unknown") line, which never changes a status;
 * - subtests nested by indentation (two or four spaces, or KUnit's tabs),
 *   with or without their own version line or KUnit's `# Subtest: name`;
 * - kselftest's runner, which nests a program's KTAP by prefixing its lines
 *   with `# ` and names results `selftests: <collection>: <program>`;
 * - several top-level documents in a row (the runner prints one per
 *   collection), printk timestamps (`[    1.234567] `, `[  T1]`), carriage
 *   returns and escape sequences from a serial console.
 *
 * Statuses: ok = PASS, not ok = FAIL; `# SKIP` = SKIP whatever the result;
 * `# ERROR` = ERROR; an expected failure (`not ok … # TODO`, kselftest's
 * `ok … # XFAIL`) is PASS with `xfail` set, an unexpected pass of a TODO is
 * PASS; `# TIMEOUT` and unknown directives keep ok/not ok.
 *
 * Output that breaks off (a kernel that panics mid-suite) or contradicts
 * itself (a plan that does not match its results, a missing test number)
 * yields the results seen so far plus an ERROR saying why, for the test
 * whose subtests are affected, or for the prefix itself at the top level.
 * No input makes it throw, and its output is bounded (maxResults, maxDepth,
 * maxLogLines, MAX_LINE).
 */

export type KtapStatus = 'PASS' | 'FAIL' | 'SKIP' | 'ERROR';
export type KtapDirective = 'SKIP' | 'TODO' | 'XFAIL' | 'TIMEOUT' | 'ERROR';

export interface KtapResult {
  /** `<prefix>.<suite>.<case>…`; every segment matches PATH_SEGMENT */
  path: string;
  /** the name as printed (the result line's description) */
  name: string;
  status: KtapStatus;
  /** the result line's directive, when it is one KTAP defines */
  directive?: KtapDirective;
  /** a failure that was expected: `not ok … # TODO` or `ok … # XFAIL` */
  xfail?: boolean;
  /** the result's diagnostic data (a SKIP reason, `exit=1`), or for a parser ERROR why */
  reason?: string;
  /** the last lines printed for this test, its subtests' included (timestamps removed) */
  log: string[];
  /** 1-based input line of the result line, or where the output broke off */
  line: number;
  /** subtests reported under this test (0 for a test case) */
  subtests: number;
}

export interface KtapOptions {
  /** path of the whole run, e.g. 'kselftest' or 'fixture.smoke': dotted PATH_SEGMENTs */
  prefix: string;
  /** results kept; beyond, the rest is dropped and the prefix gets an ERROR. Default 20000 */
  maxResults?: number;
  /** nesting levels followed; deeper results are dropped with an ERROR. Default 16 */
  maxDepth?: number;
  /** log lines kept per result (the last ones). Default 20 */
  maxLogLines?: number;
}

export interface KtapParse {
  results: KtapResult[];
  /** what was wrong with the output; each one is also in an ERROR result's reason */
  problems: string[];
}

/** A path segment: what KCIDB allows in a test path, minus its separator. */
export const PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;
/** A dotted test path as this parser makes them. */
export const TEST_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** Longer lines are cut before parsing (a console line without a newline can be megabytes). */
export const MAX_LINE = 4096;
const MAX_LOG_LINE = 300;
const MAX_SEGMENT = 100;
const MAX_REASON = 1000;

/** A test name as a path segment: runs of other characters become '_'; '' when nothing is left. */
export function pathSegment(name: string): string {
  return name
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_SEGMENT)
    .replace(/_+$/, '');
}

// --- lines ------------------------------------------------------------------

// CSI sequences, two-character escapes and the control characters a console adds (tabs are kept)
// eslint-disable-next-line no-control-regex
const CONSOLE_NOISE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g;
/** printk's time stamp and optional caller id, and the one space that follows them */
const PRINTK_PREFIX = /^\[\s*\d+\.\d+\](?:\[\s*[A-Z]?\d+\])? ?/;

/** A console line as the parser reads it: cut at MAX_LINE, escape sequences and printk's time stamp removed. */
export function cleanLine(raw: string): string {
  return raw.slice(0, MAX_LINE).replace(CONSOLE_NOISE, '').replace(PRINTK_PREFIX, '').trimEnd();
}

/** Columns of leading whitespace, tabs to the next multiple of 8. */
function indentOf(text: string): number {
  let cols = 0;
  for (const c of text) {
    if (c === ' ') cols++;
    else if (c === '\t') cols += 8 - (cols % 8);
    else break;
  }
  return cols;
}

const VERSION = /^(K?TAP) version (\d+)$/;

/** Whether a console line opens a top-level KTAP or TAP document (a version line at column 0). */
export function isTopLevelVersionLine(raw: string): boolean {
  return VERSION.test(cleanLine(raw));
}
const PLAN = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/;
/** KTAP requires the number (TAP does not): console noise starting with "ok" is not a result */
const RESULT = /^(not ok|ok) (\d+)(?:\s+(.*))?$/;
const SUBTEST = /^# Subtest: (.+)$/;
const HASH_VERSION = /^#\s?((?:K?TAP) version \d+)$/;
const DIRECTIVE = /^(skip\w*|todo|xfail|timeout|error)\b[:\s]*(.*)$/i;
/** kselftest's runner names each program `selftests: <collection>: <program>` */
const KSELFTEST_NAME = /^selftests:\s*([^:\s]+):\s*(.+)$/;
/** lines that say why output stopped: a panic, an oops, a BUG, a test that bailed out */
const CRASH =
  /Kernel panic - not syncing|\bOops\b|\bBUG: |kernel BUG at|Unable to handle kernel|general protection fault|Internal error: |^Bail out!/;

type LineKind = 'version' | 'hash-version' | 'plan' | 'result' | 'subtest' | 'other';

function lineKind(body: string): LineKind {
  if (VERSION.test(body)) return 'version';
  if (HASH_VERSION.test(body)) return 'hash-version';
  if (PLAN.test(body)) return 'plan';
  if (RESULT.test(body)) return 'result';
  if (SUBTEST.test(body)) return 'subtest';
  return 'other';
}

interface ParsedResult {
  ok: boolean;
  number: number;
  description: string;
  directive?: KtapDirective;
  data: string;
}

function parseResultLine(text: string): ParsedResult | undefined {
  const m = RESULT.exec(text);
  if (!m) return undefined;
  const rest = m[3] ?? '';
  // the description ends at the first unescaped '#'
  const hash = rest.search(/(?<!\\)#/);
  const description = (hash < 0 ? rest : rest.slice(0, hash)).trim().replace(/^-\s+/, '').replace(/^-$/, '');
  const comment = hash < 0 ? '' : rest.slice(hash + 1).trim();
  const d = DIRECTIVE.exec(comment);
  const word = d?.[1].toUpperCase();
  const directive: KtapDirective | undefined = word?.startsWith('SKIP') ? 'SKIP' : (word as KtapDirective | undefined);
  return {
    ok: m[1] === 'ok',
    number: Number(m[2]),
    description,
    directive,
    data: (d ? d[2] : comment).trim(),
  };
}

function statusOf(r: ParsedResult): { status: KtapStatus; xfail?: boolean } {
  switch (r.directive) {
    case 'SKIP':
      return { status: 'SKIP' };
    case 'ERROR':
      return { status: 'ERROR' };
    case 'TODO':
      return r.ok ? { status: 'PASS' } : { status: 'PASS', xfail: true };
    case 'XFAIL':
      return r.ok ? { status: 'PASS', xfail: true } : { status: 'FAIL' };
    default:
      return { status: r.ok ? 'PASS' : 'FAIL' };
  }
}

/** The last `size` lines, and how many went before them. */
class Tail {
  private lines: string[] = [];
  private dropped = 0;
  constructor(private readonly size: number) {}
  push(line: string): void {
    this.lines.push(line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line);
    if (this.lines.length > this.size) {
      this.lines.shift();
      this.dropped++;
    }
  }
  take(): string[] {
    const out = this.dropped ? [`[… ${this.dropped} earlier lines]`, ...this.lines] : this.lines;
    this.lines = [];
    this.dropped = 0;
    return out;
  }
  get last(): string | undefined {
    return this.lines[this.lines.length - 1];
  }
}

// --- documents ----------------------------------------------------------------

/** A result whose path is still relative to the test that owns its document. */
interface Draft extends Omit<KtapResult, 'path'> {
  rel: string[];
}

/** One KTAP document: the sibling tests below one parent (or the top level). */
interface Doc {
  /** how its lines are marked: deeper indentation, or kselftest's '# ' prefix */
  lead: { kind: 'indent'; cols: number } | { kind: 'hash' };
  /** indentation of its lines, counted after the prefix of any '#' document it is in */
  cols: number;
  plan?: number;
  skipAll?: string;
  versionSeen?: boolean;
  count: number;
  next: number;
  problems: string[];
  /** lines since the last result of this document */
  pending: Tail;
  /** results of this document and its subtests, in order */
  drafts: Draft[];
  used: Set<string>;
  /** the owner's name before its result line: KUnit's `# Subtest:`, kselftest's header line */
  ownerHint?: string;
  crash?: { text: string; line: number };
}

export class KtapParser {
  private readonly prefix: string;
  private readonly maxResults: number;
  private readonly maxDepth: number;
  private readonly maxLogLines: number;
  private stack: Doc[] = [];
  private started = false;
  private lineNo = 0;
  private partial = '';
  /** the current line was longer than MAX_LINE and has been parsed already */
  private overlong = false;
  private kept = 0;
  private overflow = false;
  private tooDeep = false;
  private readonly out: KtapResult[] = [];
  private readonly problems: string[] = [];
  /** problems of the top level, reported as one ERROR for the prefix */
  private readonly topProblems: string[] = [];
  private skipAll?: string;
  /** result names taken at the top level, across its documents */
  private readonly topUsed = new Set<string>();
  private readonly paths = new Set<string>();
  /** the last lines since the first version line, for the prefix's own ERROR */
  private readonly recent: Tail;
  private ended?: KtapParse;

  constructor(opts: KtapOptions) {
    if (!TEST_PATH.test(opts.prefix))
      throw new Error(`KTAP path prefix ${JSON.stringify(opts.prefix)} is not a dotted path of [A-Za-z0-9_-] segments`);
    this.prefix = opts.prefix;
    this.maxResults = Math.max(1, Math.floor(opts.maxResults ?? 20000));
    this.maxDepth = Math.max(1, Math.floor(opts.maxDepth ?? 16));
    this.maxLogLines = Math.max(1, Math.floor(opts.maxLogLines ?? 20));
    this.recent = new Tail(this.maxLogLines);
  }

  /** Feeds console text in any chunks; complete lines are parsed at once. */
  feed(text: string): void {
    if (this.ended) return;
    const buffer = this.partial + text;
    let start = 0;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
      if (this.overlong) this.overlong = false;
      else this.line(buffer.slice(start, nl));
      start = nl + 1;
    }
    this.partial = this.overlong ? '' : buffer.slice(start);
    if (this.partial.length > MAX_LINE) {
      // parsed as far as any line is; the rest of it, up to its newline, is dropped
      this.line(this.partial);
      this.partial = '';
      this.overlong = true;
    }
  }

  /** The output is over: whatever is still open was cut off. */
  end(): KtapParse {
    if (this.ended) return this.ended;
    if (this.partial) this.line(this.partial);
    this.partial = '';
    if (!this.started) this.topProblem('no KTAP output: no "KTAP version 1" or "TAP version N" line');
    else {
      while (this.stack.length > 1) this.closeWithoutResult('the output ended');
      this.closeTopDocument('the output ended');
    }
    if (this.tooDeep) this.topProblem(`subtests nested deeper than ${this.maxDepth} levels were ignored`);
    if (this.overflow) this.topProblem(`more than ${this.maxResults} results: the rest were not kept`);
    if (this.topProblems.length || this.skipAll !== undefined) {
      const error = this.topProblems.length > 0;
      this.out.push({
        path: this.prefix,
        name: this.prefix,
        status: error ? 'ERROR' : 'SKIP',
        reason: clip(error ? this.topProblems.join('; ') : this.skipAll || 'all tests skipped'),
        log: this.recent.take(),
        line: this.lineNo,
        subtests: this.out.length,
      });
    }
    this.ended = { results: this.out, problems: this.problems };
    return this.ended;
  }

  private line(raw: string): void {
    this.lineNo++;
    const text = cleanLine(raw);
    if (!this.started) {
      if (!VERSION.test(text.trim())) return;
      this.started = true;
      this.stack = [this.newDoc({ kind: 'indent', cols: 0 }, indentOf(text))];
      return;
    }
    this.recent.push(text);
    const consumer = this.dispatch(text);
    if (consumer === 'header') return;
    const crash = CRASH.test(text.trim()) ? { text: text.trim(), line: this.lineNo } : undefined;
    for (const doc of this.stack) {
      if (doc === consumer) continue;
      doc.pending.push(text);
      if (crash && !doc.crash) doc.crash = crash;
    }
  }

  /**
   * Acts on one line; returns the document whose result it was (that result
   * has it in its log already), 'header' for version and plan lines (kept out
   * of logs), or undefined for lines that go to every open test's log.
   */
  private dispatch(text: string): Doc | 'header' | undefined {
    const { depth, rest } = this.locate(text);
    const body = rest.trim();
    const top = this.stack.length - 1;
    const kind = lineKind(body);
    if (kind === 'other') return undefined;
    if (kind === 'hash-version') {
      this.closeDeeperThan(depth);
      this.open({ kind: 'hash' }, 0);
      return 'header';
    }
    if (depth === top && indentOf(rest) > this.stack[top].cols) {
      // deeper than the innermost document: the first line of a subtest's document
      if (!this.open({ kind: 'indent', cols: indentOf(rest) }, indentOf(rest))) return undefined;
      return this.inDoc(kind, body);
    }
    if (kind === 'subtest') return this.inDoc(kind, body);
    // a version, plan or result line of an outer document ends the documents inside it
    while (this.stack.length - 1 > depth) {
      if (kind === 'result' && this.stack.length - 1 === depth + 1) return this.closeWithResult(body, text);
      this.closeWithoutResult(`interrupted at line ${this.lineNo}`);
    }
    return this.inDoc(kind, body, text);
  }

  /** The deepest open document the line belongs to, and the line without its documents' '#' prefixes. */
  private locate(text: string): { depth: number; rest: string } {
    let rest = text;
    let depth = 0;
    for (let i = 1; i < this.stack.length; i++) {
      const lead = this.stack[i].lead;
      if (lead.kind === 'hash') {
        const m = /^[ \t]*#(?: |$)/.exec(rest);
        if (!m) break;
        rest = rest.slice(m[0].length);
      } else if (indentOf(rest) < lead.cols) break;
      depth = i;
    }
    return { depth, rest };
  }

  private newDoc(lead: Doc['lead'], cols: number): Doc {
    return {
      lead,
      cols,
      count: 0,
      next: 1,
      problems: [],
      pending: new Tail(this.maxLogLines),
      drafts: [],
      used: new Set(),
    };
  }

  /** A subtest's document begins; false (and nothing opened) past maxDepth. */
  private open(lead: Doc['lead'], cols: number): boolean {
    if (this.stack.length > this.maxDepth) {
      this.tooDeep = true;
      return false;
    }
    const parent = this.stack[this.stack.length - 1];
    this.stack.push({ ...this.newDoc(lead, cols), ownerHint: kselftestHeader(parent.pending.last) });
    return true;
  }

  private closeDeeperThan(depth: number): void {
    while (this.stack.length - 1 > depth) this.closeWithoutResult(`interrupted at line ${this.lineNo}`);
  }

  /** A version, plan, subtest header or result line of the innermost document. */
  private inDoc(kind: LineKind, body: string, text = body): Doc | 'header' | undefined {
    const doc = this.stack[this.stack.length - 1];
    const depth = this.stack.length - 1;
    switch (kind) {
      case 'version':
        if (doc.count > 0 || doc.plan !== undefined || doc.versionSeen) {
          if (depth === 0) {
            this.closeTopDocument(`a new document began at line ${this.lineNo}`);
            this.stack = [this.newDoc(doc.lead, doc.cols)];
          } else {
            // a second document at this level: the owner of the first never printed its result
            this.closeWithoutResult(`interrupted at line ${this.lineNo}`);
            this.open(doc.lead, doc.cols);
          }
        }
        this.stack[this.stack.length - 1].versionSeen = true;
        return 'header';
      case 'subtest':
        if (doc.count === 0 && depth > 0) doc.ownerHint = SUBTEST.exec(body)![1].trim();
        return undefined;
      case 'plan': {
        const plan = PLAN.exec(body)!;
        if (doc.plan !== undefined) doc.problems.push(`a second plan 1..${plan[1]} at line ${this.lineNo}`);
        else {
          doc.plan = Number(plan[1]);
          if (doc.plan === 0) doc.skipAll = (plan[2] ?? '').replace(/^skip\w*[:\s]*/i, '').trim();
        }
        return 'header';
      }
      case 'result':
        this.addResult(doc, parseResultLine(body)!, text, [], 0);
        return doc;
      default:
        return undefined;
    }
  }

  /** Records one result of `doc`, with its subtests' drafts (relative to it). */
  private addResult(
    doc: Doc,
    r: ParsedResult,
    text: string | undefined,
    children: Draft[],
    subtests: number,
    adjust?: (d: Draft) => void,
  ): void {
    const number = r.number;
    if (number !== doc.next)
      doc.problems.push(
        `test ${number} at line ${this.lineNo} where test ${doc.next} was expected` +
          (number > doc.next ? ' (results are missing)' : ''),
      );
    doc.next = number + 1;
    doc.count++;
    const name = r.description || r.data || `test_${number}`;
    const log = doc.pending.take();
    if (text !== undefined) log.push(text);
    const draft: Draft = {
      rel: this.segments(doc, name, number),
      name,
      ...statusOf(r),
      ...(r.directive ? { directive: r.directive } : {}),
      ...(r.data ? { reason: clip(r.data) } : {}),
      log: log.slice(-this.maxLogLines),
      line: this.lineNo,
      subtests,
    };
    adjust?.(draft);
    for (const c of children) c.rel = [...draft.rel, ...c.rel];
    // the children were counted when they were recorded; only this result is new
    const fits = this.kept < this.maxResults;
    if (fits) this.kept++;
    else this.overflow = true;
    for (const d of fits ? [...children, draft] : children) {
      if (doc !== this.stack[0]) doc.drafts.push(d);
      else {
        const { rel, ...result } = d;
        this.out.push({ path: this.uniquePath([this.prefix, ...rel].join('.')), ...result });
      }
    }
  }

  /**
   * Siblings never share a name (see segments), but a kselftest name is two
   * segments, so `selftests: a: b` and a test `a` with a subtest `b` would.
   */
  private uniquePath(path: string): string {
    let unique = path;
    for (let n = 2; this.paths.has(unique); n++) unique = `${path}_${n}`;
    this.paths.add(unique);
    return unique;
  }

  /** Unique path segments for a new result of `doc`: a sibling's name is never reused. */
  private segments(doc: Doc, name: string, number: number): string[] {
    const ks = KSELFTEST_NAME.exec(name);
    const segs = (ks ? [ks[1], ks[2]] : [name]).map((s) => pathSegment(s) || `test_${number}`);
    const used = doc === this.stack[0] ? this.topUsed : doc.used;
    const key = segs.join('.');
    let unique = key;
    for (let n = 2; used.has(unique); n++) unique = `${key}_${n}`;
    used.add(unique);
    return unique.split('.');
  }

  /** How a document's results disagree with its plan and numbering; empty when they agree. */
  private planProblems(doc: Doc, ending?: string): string[] {
    const problems = [...doc.problems];
    if (doc.plan !== undefined && doc.count !== doc.plan) {
      const fewer = doc.count < doc.plan;
      const results = `${fewer ? 'only ' : ''}${doc.count} result${doc.count === 1 ? '' : 's'}`;
      problems.push(`plan 1..${doc.plan} but ${results}${fewer && ending ? ` (${ending})` : ''}`);
    }
    if (doc.crash && (doc.plan === undefined || doc.count < doc.plan))
      problems.push(`${doc.crash.text} (line ${doc.crash.line})`);
    return problems;
  }

  /** The innermost document ends with its owner's result line, `body`, one level up. */
  private closeWithResult(body: string, text: string): Doc {
    const doc = this.stack.pop()!;
    const parent = this.stack[this.stack.length - 1];
    const parsed = parseResultLine(body)!;
    const problems = doc.plan === 0 ? [] : this.planProblems(doc);
    if (doc.plan === undefined && doc.count === 0) problems.push('no subtest results');
    this.problems.push(...problems.map((p) => `${quoted(parsed.description)}: ${p}`));
    this.addResult(parent, parsed, text, doc.drafts, doc.count, (d) => {
      if (!problems.length) return;
      const why = problems.join('; ');
      // a test that says it passed while its subtests' output is broken has not shown that it passed
      if (d.status === 'PASS') {
        d.status = 'ERROR';
        d.reason = clip(why);
      } else d.reason = clip(d.reason ? `${d.reason}; ${why}` : why);
    });
    return parent;
  }

  /** The innermost document ends without its owner's result line: the owner is an ERROR. */
  private closeWithoutResult(ending: string): void {
    const doc = this.stack.pop()!;
    const parent = this.stack[this.stack.length - 1];
    const why = [`no result line (${ending})`, ...this.planProblems(doc)].join('; ');
    const name = doc.ownerHint ?? '';
    this.problems.push(`${quoted(name || `test ${parent.next}`)}: ${why}`);
    const parsed: ParsedResult = { ok: false, number: parent.next, description: name, data: '' };
    this.addResult(parent, parsed, undefined, doc.drafts, doc.count, (d) => {
      d.status = 'ERROR';
      d.reason = clip(why);
    });
  }

  /** The top-level document ends: a new one begins, or the output ends. */
  private closeTopDocument(ending: string): void {
    const doc = this.stack[0];
    if (doc.plan === 0 && doc.count === 0) {
      this.skipAll = doc.skipAll;
      return;
    }
    const problems = this.planProblems(doc, ending);
    if (doc.plan === undefined && doc.count === 0) problems.push(`no test results (${ending})`);
    for (const p of problems) this.topProblem(p);
  }

  private topProblem(p: string): void {
    this.topProblems.push(p);
    this.problems.push(`${this.prefix}: ${p}`);
  }
}

/** The name in kselftest's `# selftests: <collection>: <program>` header line, if that is the line. */
function kselftestHeader(line: string | undefined): string | undefined {
  const m = line ? /^\s*#\s*(selftests:\s*\S+:\s*\S.*)$/.exec(line) : null;
  return m ? m[1].trim() : undefined;
}

function quoted(name: string): string {
  return name ? JSON.stringify(name) : 'a test';
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}

/** Parses a whole console or KTAP text at once. */
export function parseKtap(text: string, opts: KtapOptions): KtapParse {
  const parser = new KtapParser(opts);
  parser.feed(text);
  return parser.end();
}
