/**
 * Reads a kbuild log as it streams: gcc/ld-style warnings and errors, make's
 * `*** … Error N` lines, and the messages that say the builder (not the
 * kernel) failed — claims only: a tree can print them too, so the build
 * activity checks what really happened (./machineFailure.ts).
 */
import { StringDecoder } from 'node:string_decoder';

export interface BuildLogSummary {
  lines: number;
  warnings: number;
  /** compiler and linker errors; a failed make with none of those counts as one */
  errors: number;
  /** the first few error lines, for reports */
  errorLines: string[];
  /** lines saying the machine failed the build: disk full, compiler killed, out of memory */
  infraLines: string[];
}

// gcc colours its output when forced to (GCC_COLORS, -fdiagnostics-color=always)
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
// path:line[:col]: warning: …   and ld's "ld: warning: …"
const WARNING = /^(?:[^\s:]+:\d+(?::\d+)?|\S*\bld(?:\.bfd|\.lld)?): warning: /;
const ERROR =
  /^(?:[^\s:]+:\d+(?::\d+)?: (?:fatal )?error: |\S*\bld(?:\.bfd|\.lld)?: .*error|.*: undefined reference to )/;
const MAKE_FAILED = /^g?make(?:\[\d+\])?: \*\*\* .*(?:Error \d+|Stop\.)/;
// kconfig and Makefiles say why they stopped in "*** …" lines (also on success: "*** Default configuration is based on …")
const STARS = /^\*\*\* \S/;
const INFRA =
  /No space left on device|Disk quota exceeded|internal compiler error: Killed|Killed signal terminated program|virtual memory exhausted|Cannot allocate memory|Read-only file system/;

export const MAX_ERROR_LINES = 5;
const MAX_LINE_LENGTH = 240;
/** A line longer than this is judged by its start; the rest, up to its newline, is skipped unread. */
export const MAX_PARSED_LINE = 64 * 1024;

function short(line: string): string {
  return line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH - 1)}…` : line;
}

export class BuildLogParser {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** inside an overlong line: drop text until its newline */
  private skipping = false;
  private lines = 0;
  private warnings = 0;
  private compilerErrors: string[] = [];
  private compilerErrorCount = 0;
  private makeErrors: string[] = [];
  private makeFailed = false;
  /** "*** …" lines of the current step, kept as the reason when that step fails */
  private stars: string[] = [];
  private reason: string[] = [];
  private infra: string[] = [];

  /** Feed output as it comes; lines may be split across chunks. */
  push(chunk: Buffer | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (this.skipping) {
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      this.skipping = false;
      text = text.slice(nl + 1);
    }
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
    if (this.partial.length > MAX_PARSED_LINE) {
      this.line(this.partial.slice(0, MAX_PARSED_LINE));
      this.partial = '';
      this.skipping = true;
    }
  }

  /** A new command begins: earlier "*** …" remarks no longer explain a failure. */
  startStep(): void {
    if (this.partial) {
      this.line(this.partial);
      this.partial = '';
    }
    this.skipping = false;
    this.stars = [];
  }

  get lineCount(): number {
    return this.lines;
  }

  private line(raw: string): void {
    this.lines++;
    const line = raw.replace(ANSI, '').replace(/\r$/, '');
    if (WARNING.test(line)) this.warnings++;
    else if (ERROR.test(line)) {
      this.compilerErrorCount++;
      if (this.compilerErrors.length < MAX_ERROR_LINES && !this.compilerErrors.includes(short(line)))
        this.compilerErrors.push(short(line));
    } else if (MAKE_FAILED.test(line)) {
      if (!this.makeFailed) this.reason = this.stars;
      this.makeFailed = true;
      if (this.makeErrors.length < MAX_ERROR_LINES) this.makeErrors.push(short(line));
    } else if (STARS.test(line) && this.stars.length < MAX_ERROR_LINES) this.stars.push(short(line));
    if (INFRA.test(line) && this.infra.length < MAX_ERROR_LINES) this.infra.push(short(line));
  }

  /** The summary so far (call after the last push to include an unterminated last line). */
  summary(): BuildLogSummary {
    if (this.partial) {
      this.line(this.partial);
      this.partial = '';
    }
    const errors = this.compilerErrorCount || (this.makeFailed ? 1 : 0);
    const errorLines = this.compilerErrors.length
      ? this.compilerErrors
      : this.makeFailed
        ? [...this.reason, ...this.makeErrors].slice(0, MAX_ERROR_LINES)
        : [];
    return {
      lines: this.lines,
      warnings: this.warnings,
      errors,
      errorLines: [...errorLines],
      infraLines: [...this.infra],
    };
  }
}

export function parseBuildLog(text: string): BuildLogSummary {
  const p = new BuildLogParser();
  p.push(text);
  return p.summary();
}
