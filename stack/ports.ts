import { createServer } from 'node:net';

export class PortInUseError extends Error {
  constructor(
    public readonly port: number,
    what: string,
  ) {
    super(`port ${port} (${what}) is already in use; choose another with the matching option or stop what holds it`);
    this.name = 'PortInUseError';
  }
}

function tryListen(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, host, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : null;
      srv.close(() => resolve(got));
    });
  });
}

/** A free loopback port chosen by the kernel. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const port = await tryListen(0, host);
  if (!port) throw new Error('could not find a free port');
  return port;
}

export async function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  if ((await tryListen(port, host)) === null) throw new PortInUseError(port, what);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `${what} not ready after ${timeoutMs / 1000}s${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}
