import { createServer, type Server } from 'node:net';

/** A loopback port something else holds, for the tests of a port already in use. */
export async function occupiedPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    release: () => new Promise<void>((r) => server.close(() => r())),
  };
}
