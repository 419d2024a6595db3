/**
 * The embedded outbox: a directory of .eml files written by the mailer.
 * Only what a reader needs is parsed here (headers, the text/plain part),
 * without a mail library: the messages come from our own mailer.
 */
import { z } from 'zod';
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { badRequest, notFound } from './http';

export const outboxEntrySchema = z
  .strictObject({
    name: z.string().describe("path relative to the outbox directory, '/'-separated"),
    subject: z.string(),
    from: z.string(),
    to: z.string(),
    date: z.string().nullable(),
    messageId: z.string(),
    size: z.number().int(),
    mtime: z.iso.datetime(),
  })
  .meta({ id: 'OutboxEntry' });
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;

export const outboxMessageSchema = outboxEntrySchema
  .extend({ cc: z.string(), inReplyTo: z.string(), text: z.string(), hasHtml: z.boolean() })
  .meta({ id: 'OutboxMessage' });
export type OutboxMessage = z.infer<typeof outboxMessageSchema>;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._@+=,-]{0,199}$/;
const MAX_FILES = 2000;
const HEADER_BYTES = 64 * 1024;

/** Newest first, at most `limit`; sub-directories to depth 3. A missing directory is an empty outbox. */
export async function listOutbox(dir: string, limit = 200): Promise<OutboxEntry[]> {
  const files: { name: string; size: number; mtime: Date }[] = [];
  async function walk(rel: string[], depth: number): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(dir, ...rel), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw e;
    }
    for (const entry of entries) {
      if (files.length >= MAX_FILES || !SEGMENT.test(entry.name)) continue;
      if (entry.isDirectory() && depth < 3) await walk([...rel, entry.name], depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.eml')) {
        const st = await stat(join(dir, ...rel, entry.name));
        files.push({ name: [...rel, entry.name].join('/'), size: st.size, mtime: st.mtime });
      }
    }
  }
  await walk([], 0);
  files.sort((a, b) => b.mtime.getTime() - a.mtime.getTime() || a.name.localeCompare(b.name));
  return Promise.all(
    files.slice(0, limit).map(async (f) => {
      const handle = await open(join(dir, f.name), 'r');
      try {
        const buf = Buffer.alloc(Math.min(HEADER_BYTES, f.size));
        await handle.read(buf, 0, buf.length, 0);
        return entryOf(f, parseHeaders(splitHead(buf.toString('latin1')).head));
      } finally {
        await handle.close();
      }
    }),
  );
}

/** One message by its outbox name; 400 for a name that could leave the directory, 404 when absent. */
export async function readOutboxMessage(dir: string, name: string): Promise<OutboxMessage> {
  const segments = name.split('/');
  if (!name.endsWith('.eml') || segments.length > 4 || !segments.every((s) => SEGMENT.test(s)))
    throw badRequest('name', 'name must be a .eml file of the outbox (letters, digits, ._@+=,-)');
  let file: string;
  try {
    file = await realpath(join(dir, ...segments));
    const root = await realpath(dir);
    if (relative(root, file).startsWith('..') || relative(root, file).split(sep).includes('..'))
      throw new Error('outside');
  } catch {
    throw notFound('message', 'name');
  }
  const [raw, st] = await Promise.all([readFile(file), stat(file)]);
  const { head, body } = splitHead(raw.toString('latin1'));
  const headers = parseHeaders(head);
  const parts = textParts(headers, body);
  return {
    ...entryOf({ name, size: st.size, mtime: st.mtime }, headers),
    cc: headers.get('cc') ?? '',
    inReplyTo: headers.get('in-reply-to') ?? '',
    text: parts.text ?? '(this message has no text/plain part)',
    hasHtml: parts.hasHtml,
  };
}

function entryOf(f: { name: string; size: number; mtime: Date }, h: Map<string, string>): OutboxEntry {
  const date = h.get('date');
  const parsed = date ? Date.parse(date) : NaN;
  return {
    name: f.name,
    subject: h.get('subject') ?? '(no subject)',
    from: h.get('from') ?? '',
    to: h.get('to') ?? '',
    date: Number.isNaN(parsed) ? null : new Date(parsed).toISOString(),
    messageId: h.get('message-id') ?? '',
    size: f.size,
    mtime: f.mtime.toISOString(),
  };
}

/** Head and body of a message or part held as a latin1 string (one char per byte). */
function splitHead(text: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) } : { head: text, body: '' };
}

/** Unfolded headers, lower-case names, first occurrence wins, encoded words decoded. */
export function parseHeaders(head: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim().toLowerCase();
    if (!out.has(key)) out.set(key, decodeWords(line.slice(i + 1).trim()));
  }
  return out;
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** RFC 2047 encoded words (=?utf-8?Q?…?= / ?B?); raw 8-bit header bytes are read as UTF-8. */
export function decodeWords(value: string): string {
  const decoded = value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (__, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            );
      return `\u0000${decodeCharset(bytes, charset.split('*')[0])}\u0000`;
    });
  // Text outside encoded words: bytes held as latin1 chars; read them as UTF-8.
  return decoded
    .split('\u0000')
    .map((piece, i) => (i % 2 ? piece : Buffer.from(piece, 'latin1').toString('utf8')))
    .join('');
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(header);
  return m ? (m[1] ?? m[2]) : undefined;
}

function decodeBody(body: string, encoding: string, charset: string): string {
  let bytes: Buffer;
  const enc = encoding.toLowerCase();
  if (enc === 'base64') bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (enc === 'quoted-printable')
    bytes = Buffer.from(
      body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
  else bytes = Buffer.from(body, 'latin1');
  return decodeCharset(bytes, charset).replace(/\r\n/g, '\n');
}

/** The first text/plain part, depth first, and whether an HTML alternative exists. */
function textParts(headers: Map<string, string>, body: string, depth = 0): { text?: string; hasHtml: boolean } {
  const type = headers.get('content-type') ?? 'text/plain';
  const mime = type.split(';')[0].trim().toLowerCase();
  if (mime.startsWith('multipart/') && depth < 5) {
    const boundary = param(type, 'boundary');
    if (!boundary) return { hasHtml: false };
    const pieces = body.split(
      new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`),
    );
    let text: string | undefined;
    let hasHtml = false;
    for (const piece of pieces.slice(1)) {
      if (!piece.trim()) continue;
      const part = splitHead(piece);
      const r = textParts(parseHeaders(part.head), part.body, depth + 1);
      text ??= r.text;
      hasHtml ||= r.hasHtml;
    }
    return { text, hasHtml };
  }
  if (mime === 'text/html') return { hasHtml: true };
  if (mime === 'text/plain')
    return {
      text: decodeBody(body, headers.get('content-transfer-encoding') ?? '7bit', param(type, 'charset') ?? 'utf-8'),
      hasHtml: false,
    };
  return { hasHtml: false };
}
