/**
 * A Temporal frontend behind TLS, as a real cluster or Temporal Cloud
 * presents itself: an HTTP/2 server with a certificate for `serverName`
 * signed by the test's CA, which may require a client certificate of that CA
 * (mTLS) and an `authorization: Bearer <apiKey>` header, and forwards each
 * gRPC call to a plaintext frontend (the test's dev server).
 */
import { connect, constants, createSecureServer, type ClientHttp2Session, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface GrpcTlsProxy {
  address: string;
  close(): Promise<void>;
}

const { HTTP2_HEADER_STATUS } = constants;

export async function startGrpcTlsProxy(opts: {
  target: string;
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  requireClientCert: boolean;
  apiKey?: string;
}): Promise<GrpcTlsProxy> {
  const upstream: ClientHttp2Session = connect(`http://${opts.target}`);
  upstream.on('error', () => {});
  const server: Http2SecureServer = createSecureServer({
    cert: opts.cert,
    key: opts.key,
    ca: opts.ca,
    requestCert: opts.requireClientCert,
    rejectUnauthorized: opts.requireClientCert,
    ALPNProtocols: ['h2'],
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (opts.apiKey !== undefined && headers.authorization !== `Bearer ${opts.apiKey}`) {
      stream.respond(
        {
          [HTTP2_HEADER_STATUS]: 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': 'API key not accepted',
        },
        { endStream: true },
      );
      return;
    }
    const forwarded: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers))
      if (v !== undefined && (!k.startsWith(':') || k === ':method' || k === ':path')) forwarded[k] = v;
    const req = upstream.request(forwarded);
    req.on('error', () => {
      if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    // a client that went away (a worker stopped in a long poll) ends the call upstream too
    stream.on('close', () => {
      if (!req.destroyed) req.close();
    });
    stream.pipe(req);
    req.on('response', (h) => {
      if (stream.destroyed) return;
      // a trailers-only answer (an error) is its own end
      if (h['grpc-status'] !== undefined) {
        stream.respond(h, { endStream: true });
        return;
      }
      let trailers: Record<string, string> = {};
      req.on('trailers', (t) => (trailers = t as Record<string, string>));
      stream.respond(h, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(trailers));
      req.pipe(stream);
    });
  });
  server.on('sessionError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        upstream.destroy();
        server.close(() => resolve());
      }),
  };
}
