import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SafeHtml } from './html';

/**
 * A refusal the client can act on: a 4xx with the offending field named.
 * Injected operator functions may throw it too, to refuse an input they
 * alone can judge (an unknown branch, say).
 */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export const badRequest = (field: string, message: string) => new RequestError(400, message, field);
export const notFound = (what: string, field?: string) => new RequestError(404, `${what} not found`, field);

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  /** the raw path, still percent-encoded */
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, body: SafeHtml): void {
  const text = body.value;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    // Pages need no script at all; inline styles and SVG only.
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0 });
  res.end();
}

export const MAX_JSON_BODY = 16 * 1024 * 1024 + 64 * 1024;

/**
 * The request body's bytes when its content type is `type`: 415 for another
 * type, 413 as soon as it is larger than `limit` (what came is dropped).
 */
async function readBody(
  req: IncomingMessage,
  { type, limit, wrongType, tooLarge }: { type: string; limit: number; wrongType: string; tooLarge: string },
): Promise<Buffer> {
  const given = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (given !== type) {
    drain(req);
    throw new RequestError(415, wrongType, 'content-type');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    drain(req);
    throw new RequestError(413, tooLarge, 'body');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      drain(req);
      throw new RequestError(413, tooLarge, 'body');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request body as JSON: 415 for another content type, 413 when too large, 400 when malformed. */
export async function readJson(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<unknown> {
  const text = (
    await readBody(req, {
      type: 'application/json',
      limit,
      wrongType: 'the body must be JSON (content-type: application/json)',
      tooLarge: `the body is larger than ${limit} bytes`,
    })
  ).toString('utf8');
  if (!text.trim()) throw badRequest('body', 'the body is empty; a JSON object is expected');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest('body', `malformed JSON: ${(e as Error).message}`);
  }
}

/**
 * A file as the request body (application/octet-stream), at most `bytes`
 * (the limit `setting` sets): 415 for another type, 413 beyond, 400 empty.
 */
export async function readOctets(
  req: IncomingMessage,
  { bytes, setting }: { bytes: number; setting: string },
): Promise<Buffer> {
  const data = await readBody(req, {
    type: 'application/octet-stream',
    limit: bytes,
    wrongType: 'the upload must be the file itself (content-type: application/octet-stream)',
    tooLarge: `the upload is larger than ${bytes} bytes (${setting})`,
  });
  if (!data.length) throw badRequest('body', 'the upload is empty');
  return data;
}

/** Discard what is left of a request we refuse, so the connection can be reused. */
function drain(req: IncomingMessage): void {
  req.resume();
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : undefined;
}
