/**
 * Plain-text layout for terminal mail clients: every line at most WIDTH
 * columns. Prose wraps at spaces; a URL is never broken or shortened (a cut
 * URL is useless, and kernel style, like checkpatch, lets a link run long),
 * it goes on a line of its own instead.
 */
export const WIDTH = 80;

const URL_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/\S+$/i;

/** One line of plain printable text: tabs to spaces, control characters out. */
export function clean(text: string): string {
  return (
    text
      .replace(/\t/g, '  ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trimEnd()
  );
}

/** Cut to `width` columns, marking the cut. */
export function clip(text: string, width: number): string {
  const t = clean(text);
  if ([...t].length <= width) return t;
  return `${[...t].slice(0, Math.max(0, width - 3)).join('')}...`;
}

const len = (s: string) => [...s].length;

/**
 * Wrap at spaces to `width`; continuation lines start with `hang`. A word
 * longer than a line (a path in a compiler message) is split, unless it is a URL.
 */
export function wrap(text: string, indent = '', hang = indent, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = indent;
  let empty = true;
  const flush = () => {
    if (!empty) lines.push(line);
    line = hang;
    empty = true;
  };
  for (let word of clean(text).split(/ +/).filter(Boolean)) {
    if (!empty && len(line) + 1 + len(word) > width) flush();
    if (URL_PATTERN.test(word)) {
      if (len(line) + len(word) > width) line = '';
    } else {
      while (len(line) + len(word) > width) {
        const cut = Math.max(1, width - len(line));
        line += [...word].slice(0, cut).join('');
        word = [...word].slice(cut).join('');
        empty = false;
        flush();
      }
    }
    if (!word) continue;
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  flush();
  return lines;
}

/** `Label:    value`, the value wrapped under itself. */
export function field(label: string, value: string, labelWidth = 11): string[] {
  const head = `${label}:`.padEnd(labelWidth);
  if (URL_PATTERN.test(value) && head.length + value.length > WIDTH) return [head.trimEnd(), `  ${value}`];
  return wrap(value, head, ' '.repeat(labelWidth));
}

/** A URL on its own line, indented when it still fits. */
export function urlLine(url: string, indent: string): string {
  return indent.length + url.length <= WIDTH ? indent + url : url;
}

export function heading(title: string): string[] {
  const t = clip(title, WIDTH);
  return [t, '-'.repeat(t.length)];
}
