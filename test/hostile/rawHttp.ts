/**
 * HTTP as an attacker sends it: raw bytes over a TCP socket, no client
 * library to tidy them up, and the status line of whatever comes back.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** the status code, or null when the connection closed without an HTTP answer */
  status: number | null;
  head: string;
}

/** Send `bytes`, read until the server closes (or `timeoutMs`), return the first status line. */
export function rawRequest(port: number, bytes: Buffer | string, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // a server that answered and closed may reset a connection we were still writing to
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.split('\r\n\r\n')[0];
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, head });
    });
    socket.write(bytes);
  });
}

/** A request with the given target and extra header lines, closing the connection after the answer. */
export function requestBytes(target: string, headers: string[] = ['Host: 127.0.0.1'], method = 'GET'): string {
  return `${method} ${target} HTTP/1.1\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`;
}

export interface CorpusEntry {
  name: string;
  bytes: Buffer | string;
  /** the status every server must answer with */
  status: number;
}

/**
 * Malformed requests each server must answer with a 4xx (and survive).
 * `good` is a path the server serves (200), so a case that only mangles
 * part of a request still aims at something real.
 */
export function malformedCorpus(good: string): CorpusEntry[] {
  const parent = good.slice(0, good.lastIndexOf('/'));
  return [
    { name: 'GET //', bytes: requestBytes('//'), status: 400 },
    { name: 'an empty segment inside the path', bytes: requestBytes(good.replace('/', '//')), status: 400 },
    { name: 'a lone % as the whole path', bytes: requestBytes('/%'), status: 400 },
    { name: 'a lone % where the name goes', bytes: requestBytes(`${parent}/%`), status: 400 },
    { name: 'a truncated %-escape', bytes: requestBytes(`${parent}/%E0%A4%A`), status: 400 },
    { name: 'an escape that is not UTF-8', bytes: requestBytes(`${parent}/%C0%AF`), status: 400 },
    { name: 'an encoded NUL', bytes: requestBytes(`${good}%00`), status: 400 },
    { name: 'an encoded newline', bytes: requestBytes(`${good}%0a`), status: 400 },
    { name: 'a raw NUL in the target', bytes: requestBytes(`${good}\0x`), status: 400 },
    { name: 'a raw DEL in the target', bytes: requestBytes(`${good}\x7f`), status: 400 },
    { name: 'a NUL in a header value', bytes: requestBytes(good, ['Host: 127.0.0.1', 'X-A: a\0b']), status: 400 },
    { name: 'dot segments', bytes: requestBytes(`${parent}/../../../etc/passwd`), status: 400 },
    { name: 'encoded dot segments', bytes: requestBytes(`${parent}/%2e%2e/%2E%2E/etc/passwd`), status: 400 },
    { name: 'a 5000-character path', bytes: requestBytes(`${parent}/${'a'.repeat(5000)}`), status: 414 },
    { name: 'a 100 kB path', bytes: requestBytes(`/${'a'.repeat(100_000)}`), status: 400 },
    {
      name: 'a 64 kB header',
      bytes: requestBytes(good, ['Host: 127.0.0.1', `X-Big: ${'b'.repeat(65_536)}`]),
      status: 400,
    },
    {
      name: '5000 headers',
      bytes: requestBytes(good, ['Host: 127.0.0.1', ...Array.from({ length: 5000 }, (_, i) => `X-${i}: y`)]),
      status: 400,
    },
    { name: 'an absolute-form target', bytes: requestBytes(`http://evil.example${good}`), status: 400 },
    { name: 'an asterisk-form target', bytes: requestBytes('*', undefined, 'OPTIONS'), status: 400 },
    { name: 'CONNECT', bytes: requestBytes('127.0.0.1:22', undefined, 'CONNECT'), status: 400 },
    { name: 'an unknown method', bytes: requestBytes(good, undefined, 'BREW'), status: 400 },
    { name: 'HTTP/1.1 without Host', bytes: `GET ${good} HTTP/1.1\r\nConnection: close\r\n\r\n`, status: 400 },
    {
      name: 'a non-numeric Content-Length',
      bytes: requestBytes(good, ['Host: 127.0.0.1', 'Content-Length: abc']),
      status: 400,
    },
    {
      name: 'Content-Length and Transfer-Encoding both (request smuggling)',
      bytes: requestBytes(good, ['Host: 127.0.0.1', 'Content-Length: 4', 'Transfer-Encoding: chunked']),
      status: 400,
    },
    {
      name: 'a TLS client hello on the plain port',
      bytes: Buffer.from('160301002c010000280303' + '00'.repeat(40), 'hex'),
      status: 400,
    },
  ];
}
