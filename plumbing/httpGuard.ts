/**
 * What every Bootfarm HTTP server checks before a handler sees a request:
 * the request target is a plain, well-formed path (origin form), and
 * malformed HTTP that never reaches a handler still gets an answer. Both the
 * dashboard and a lab worker's file server face the network; one request
 * must never take either down.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Longest request target accepted; artifact keys and page URLs are far shorter. */
export const MAX_TARGET_LENGTH = 4096;

export interface RequestTarget {
  /** the path, still percent-encoded (routes decode their own parameters) */
  path: string;
  /** the path's segments, decoded */
  segments: string[];
  /** the query string without its `?` */
  query: string;
}

export class BadRequestTarget extends Error {
  constructor(
    readonly status: 400 | 414,
    message: string,
  ) {
    super(message);
    this.name = 'BadRequestTarget';
  }
}

// a % not followed by two hex digits
const LONE_PERCENT = /%(?![0-9A-Fa-f]{2})/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new BadRequestTarget(400, 'the path has percent-encoding that is not UTF-8');
  }
  if (CONTROL.test(decoded)) throw new BadRequestTarget(400, 'the path has a control character');
  if (decoded === '.' || decoded === '..') throw new BadRequestTarget(400, 'the path has a dot segment');
  return decoded;
}

/**
 * A request target as a path with segments, or a BadRequestTarget: only the
 * origin form (`/a/b?q`), no empty or dot segments, well-formed
 * percent-encoding, no control characters, at most MAX_TARGET_LENGTH.
 */
export function parseRequestTarget(raw: string | undefined): RequestTarget {
  const target = raw ?? '';
  if (target.length > MAX_TARGET_LENGTH)
    throw new BadRequestTarget(414, `the request target is longer than ${MAX_TARGET_LENGTH} characters`);
  if (!target.startsWith('/')) throw new BadRequestTarget(400, 'the request target must be a path');
  if (CONTROL.test(target)) throw new BadRequestTarget(400, 'the request target has a control character');
  if (LONE_PERCENT.test(target)) throw new BadRequestTarget(400, 'the request target has a malformed %-escape');
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (path === '/') return { path, segments: [], query };
  const raws = path.slice(1).split('/');
  // a trailing slash is tolerated ("/revisions/"), an empty segment inside is not ("//", "/a//b")
  if (raws[raws.length - 1] === '') raws.pop();
  if (raws.some((s) => s === '')) throw new BadRequestTarget(400, 'the path has an empty segment');
  return { path, segments: raws.map(decodeSegment), query };
}

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

function refuse(socket: Duplex): void {
  if (socket.writable) socket.end(BAD_REQUEST);
  else socket.destroy();
}

/**
 * Answers what node's parser refuses (bad syntax, NUL bytes, oversized
 * headers) and CONNECT with a 400 and a closed connection: without these
 * listeners node drops such connections without an answer.
 */
export function guardServer(server: Server): Server {
  server.on('clientError', (_err, socket) => refuse(socket));
  server.on('connect', (_req, socket) => refuse(socket));
  return server;
}
