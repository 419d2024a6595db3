/**
 * A small HTTP server for the files of one boot, so a lab that downloads
 * its images (LAVA) can fetch them from the lab worker. Files are served
 * under an unguessable path prefix, read-only (GET and HEAD), with their
 * length: LAVA checks a URL with HEAD before it downloads it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestTarget, guardServer, parseRequestTarget } from '../../plumbing/httpGuard';

export interface FileServer {
  /** the URL of a served file by its name */
  url(name: string): string;
  /** names of the files fetched (GET) so far */
  readonly fetched: string[];
  close(): Promise<void>;
}

/** Serves `files` (name → path); `host` is the address the lab's downloader can reach. */
export async function serveFiles(files: Record<string, string>, host = '127.0.0.1'): Promise<FileServer> {
  const token = randomBytes(16).toString('hex');
  const fetched: string[] = [];
  /** the served file's name a request asks for, or a status to answer with */
  const lookup = (target: string | undefined): { name: string; file: string } | number => {
    let segments: string[];
    try {
      segments = parseRequestTarget(target).segments;
    } catch (e) {
      if (e instanceof BadRequestTarget) return e.status;
      throw e;
    }
    const name = segments.length === 2 && segments[0] === token ? segments[1] : '';
    return Object.hasOwn(files, name) ? { name, file: files[name] } : 404;
  };
  const server: Server = createServer((req, res) => {
    const found = lookup(req.url);
    if (typeof found === 'number') {
      res.writeHead(found, { connection: 'close' }).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const { name, file } = found;
    stat(file).then(
      (st) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        fetched.push(name);
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  guardServer(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: (name) => {
      if (!Object.hasOwn(files, name)) throw new Error(`no file ${JSON.stringify(name)} is served`);
      return `${origin}/${token}/${encodeURIComponent(name)}`;
    },
    fetched,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
