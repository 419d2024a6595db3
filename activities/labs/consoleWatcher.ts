/**
 * Decides a boot from its console as the text arrives: the first line that
 * matches a failure pattern (a panic, an oops) or the success pattern (a boot
 * marker or a shell prompt) is the verdict. Shared by every lab adapter that
 * sees a console.
 *
 * A pattern is a plain substring, or a regular expression written `/…/flags`.
 * Prompts are not followed by a newline, so the unfinished last line is
 * matched too; when it decides, the deciding line is completed as more text
 * arrives.
 */

export interface ConsolePatterns {
  successPattern: string;
  failurePatterns: readonly string[];
}

export interface ConsoleVerdict {
  status: 'pass' | 'fail';
  /** the deciding console line as printed (timestamp kept, escape sequences removed) */
  line: string;
  /** 1-based number of that line in the console output */
  lineNumber: number;
  /** the pattern that matched, as configured */
  pattern: string;
}

type Matcher = { pattern: string; test(line: string): boolean };

export function compilePattern(pattern: string): Matcher {
  const re = /^\/(.+)\/([dgimsuy]*)$/s.exec(pattern);
  if (re) {
    const regexp = new RegExp(re[1], re[2].replace(/[gy]/g, ''));
    return { pattern, test: (line) => regexp.test(line) };
  }
  if (!pattern) throw new Error('an empty console pattern would match anything');
  return { pattern, test: (line) => line.includes(pattern) };
}

// CSI and two-character escapes that firmware and terminals sprinkle into consoles
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\x1bc|[\r\0]/g;

/** Console text as a person reads it: no escape sequences, no carriage returns (spaces kept: prompts end in one). */
export function cleanConsoleLine(raw: string): string {
  return raw.replace(ESCAPES, '');
}

/** Beyond this, an unterminated line is judged as it stands, so memory stays bounded. */
const MAX_LINE = 64 * 1024;

export class ConsoleWatcher {
  private readonly failure: Matcher[];
  private readonly success: Matcher;
  private partial = '';
  private completed = 0;
  private decided?: ConsoleVerdict;
  /** the verdict was taken on the unfinished last line, which is still growing */
  private decidedOnPartial = false;
  private last = '';

  constructor(patterns: ConsolePatterns) {
    this.success = compilePattern(patterns.successPattern);
    this.failure = patterns.failurePatterns.map(compilePattern);
  }

  get verdict(): ConsoleVerdict | undefined {
    return this.decided;
  }

  /** The last non-blank complete line, cleaned: how far a boot got. */
  get lastLine(): string {
    return this.last;
  }

  /** Number of complete lines seen so far. */
  get lines(): number {
    return this.completed;
  }

  /** Feeds console text; returns the verdict once there is one. */
  feed(text: string): ConsoleVerdict | undefined {
    this.partial += text;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      this.completeLine(line);
    }
    if (this.partial.length > MAX_LINE) {
      const line = this.partial;
      this.partial = '';
      this.completeLine(line);
    }
    if (this.partial) this.judge(this.partial, this.completed + 1, true);
    return this.decided;
  }

  /** The console has ended: the unfinished last line counts as a line. */
  end(): ConsoleVerdict | undefined {
    if (this.partial) {
      const line = this.partial;
      this.partial = '';
      this.completeLine(line);
    }
    return this.decided;
  }

  private completeLine(raw: string): void {
    this.completed++;
    const text = cleanConsoleLine(raw).trim();
    if (text) this.last = text;
    this.judge(raw, this.completed, false);
  }

  private judge(raw: string, lineNumber: number, partial: boolean): void {
    if (this.decided) {
      if (this.decidedOnPartial && this.decided.lineNumber === lineNumber) {
        this.decided = { ...this.decided, line: cleanConsoleLine(raw).trim() };
        this.decidedOnPartial = partial;
      }
      return;
    }
    const line = cleanConsoleLine(raw);
    const failed = this.failure.find((m) => m.test(line));
    const matched = failed ?? (this.success.test(line) ? this.success : undefined);
    if (!matched) return;
    this.decided = { status: failed ? 'fail' : 'pass', line: line.trim(), lineNumber, pattern: matched.pattern };
    this.decidedOnPartial = partial;
  }
}
