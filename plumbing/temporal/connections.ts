import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type TLSConfig } from '@temporalio/worker';
import type { Sql } from 'postgres';
import type { BootfarmConfig } from '../../domain/config';
import { connectDb } from '../db/connect';
import { UserError } from '../../domain/userError';
import { dbPasswordFile, readSecret } from '../secrets';

/** Connections for commands that need them (loaded only by those commands: start-up of `--help` stays fast). */
export function databaseUrl(config: BootfarmConfig): string {
  if (config.database.url) return config.database.url;
  // the embedded PostgreSQL of `bootfarm up`: the password it generated (the old fixed one before that)
  const password = readSecret(dbPasswordFile(join(config.dataDir, 'postgres'))) ?? 'bootfarm';
  return `postgres://bootfarm:${encodeURIComponent(password)}@127.0.0.1:${config.database.port}/bootfarm`;
}

export async function openDb(config: BootfarmConfig): Promise<Sql> {
  return connectDb(databaseUrl(config));
}

/** What every Temporal connection of a process is made with: the address, TLS and the API key. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  tls?: TLSConfig;
  /** false when TLS was turned off explicitly, though an API key is set */
  tlsOff?: boolean;
  apiKey?: string;
}

type TlsSetting = 'clientCertPath' | 'clientKeyPath' | 'serverCaCertPath';
const TLS_ENV: Record<TlsSetting, string> = {
  clientCertPath: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientKeyPath: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  serverCaCertPath: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
};
const TLS_WHAT: Record<TlsSetting, string> = {
  clientCertPath: 'client certificate',
  clientKeyPath: 'client key',
  serverCaCertPath: 'server CA certificate',
};

function settingName(key: TlsSetting): string {
  return `${TLS_ENV[key]} or temporal.tls.${key}`;
}

/** The file a TLS setting names, read and parsed, or one line saying which setting and file are wrong and how. */
function tlsFile<T>(key: TlsSetting, path: string, parse: (pem: Buffer) => T): { pem: Buffer; parsed: T } {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    throw new UserError(
      `Temporal TLS ${TLS_WHAT[key]} ${path} (${settingName(key)}): cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return { pem, parsed: parse(pem) };
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    throw new UserError(
      `Temporal TLS ${TLS_WHAT[key]} ${path} (${settingName(key)}): not a PEM ${key === 'clientKeyPath' ? 'private key' : 'certificate'} (${reason})`,
    );
  }
}

/**
 * Temporal's connection settings from the config (the environment already
 * applied: TEMPORAL_TLS*, TEMPORAL_API_KEY). Every file is read and checked
 * here, so a bad one is one clear line at start, not a handshake error later.
 */
export function temporalSettings(config: BootfarmConfig): TemporalSettings {
  const { address, namespace, apiKey } = config.temporal;
  const t = config.temporal.tls ?? {};
  const anyFile = Boolean(t.clientCertPath || t.clientKeyPath || t.serverCaCertPath || t.serverName);
  if (t.enabled === false && anyFile)
    throw new UserError(
      'Temporal TLS is turned off (temporal.tls.enabled, TEMPORAL_TLS) but TLS files or a server name are set: remove one or the other',
    );
  if (Boolean(t.clientCertPath) !== Boolean(t.clientKeyPath)) {
    const missing: TlsSetting = t.clientCertPath ? 'clientKeyPath' : 'clientCertPath';
    throw new UserError(`Temporal mTLS needs a client certificate and its key: ${settingName(missing)} is not set`);
  }
  const on = t.enabled ?? (anyFile || apiKey !== undefined);
  if (!on) return { address, namespace, apiKey, ...(apiKey ? { tlsOff: true } : {}) };
  const tls: TLSConfig = {};
  if (t.serverName) tls.serverNameOverride = t.serverName;
  if (t.serverCaCertPath)
    tls.serverRootCACertificate = tlsFile(
      'serverCaCertPath',
      t.serverCaCertPath,
      (pem) => new X509Certificate(pem),
    ).pem;
  if (t.clientCertPath && t.clientKeyPath) {
    const cert = tlsFile('clientCertPath', t.clientCertPath, (pem) => new X509Certificate(pem));
    const key = tlsFile('clientKeyPath', t.clientKeyPath, (pem): KeyObject => createPrivateKey(pem));
    if (!cert.parsed.checkPrivateKey(key.parsed))
      throw new UserError(
        `Temporal TLS client key ${t.clientKeyPath} does not belong to the client certificate ${t.clientCertPath}`,
      );
    tls.clientCertPair = { crt: cert.pem, key: key.pem };
  }
  return { address, namespace, tls, apiKey };
}

/** How a log line names the Temporal a process talks to (never the key). */
export function describeTemporal(s: TemporalSettings): string {
  const extras = [s.tls ? (s.tls.clientCertPair ? 'mTLS' : 'TLS') : '', s.apiKey ? 'API key' : ''].filter(Boolean);
  return `${s.address} namespace ${s.namespace}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

function connectionOptions(s: TemporalSettings) {
  return { address: s.address, tls: s.tlsOff ? false : s.tls, apiKey: s.apiKey };
}

/** The native client's errors are Rust debug output; the operator needs the cause inside. */
function temporalReason(e: unknown): string {
  const first = ((e as Error).message ?? String(e)).split('\n')[0];
  const tcp = /ConnectError\("([^"]+)".*?message: "([^"]+)"/.exec(first);
  if (tcp) return `${tcp[1]}: ${tcp[2]}`;
  const status = /^Status \{ code: (\w+), message: "([^"]*)"/.exec(first);
  if (status) return `${status[1]}: ${status[2]}`;
  return first;
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  ENOTFOUND: 'name not found',
  EAI_AGAIN: 'name not resolved (temporary failure)',
};

/** grpc-js says only that it gave up ("Failed to connect before the deadline"): ask TCP why. */
export async function tcpReason(address: string): Promise<string | undefined> {
  const m = /^(?:dns:\/\/\/)?\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) return undefined;
  return new Promise((resolve) => {
    const socket = connect({ host: m[1], port: Number(m[2]), timeout: 3000 });
    const done = (why?: string) => {
      socket.destroy();
      resolve(why);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done('tcp connect error: Connection timed out'));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done(`tcp connect error: ${SOCKET_ERRORS[e.code ?? ''] ?? e.code ?? e.message}`),
    );
  });
}

async function reachable<T>(address: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (e) {
    const why = temporalReason(e);
    const tcp = /Failed to connect before the deadline/.test(why) ? await tcpReason(address) : undefined;
    throw new UserError(`cannot reach Temporal at ${address}: ${tcp ?? why}`);
  }
}

export async function openClient(
  config: BootfarmConfig,
  settings: TemporalSettings = temporalSettings(config),
): Promise<{ client: Client; connection: Connection; close(): Promise<void> }> {
  const connection = await reachable(settings.address, async () => {
    const c = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5000 });
    try {
      await c.withDeadline(Date.now() + 10_000, () => c.workflowService.getSystemInfo({}));
    } catch (e) {
      await c.close().catch(() => {});
      throw e;
    }
    return c;
  });
  return {
    client: new Client({ connection, namespace: settings.namespace }),
    connection,
    close: () => connection.close(),
  };
}

export async function openWorkerConnection(
  config: BootfarmConfig,
  settings: TemporalSettings = temporalSettings(config),
): Promise<NativeConnection> {
  return reachable(settings.address, async () => {
    let timer: NodeJS.Timeout | undefined;
    const connecting = NativeConnection.connect(connectionOptions(settings));
    try {
      const connection = await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 10s')), 10_000);
        }),
      ]);
      // The native connection is lazy about some failures (an API key or client certificate the server refuses):
      // one real call makes them a start-up error.
      await connection
        .withDeadline(Date.now() + 10_000, () => connection.workflowService.getSystemInfo({}))
        .catch(async (e: unknown) => {
          await connection.close().catch(() => {});
          throw e;
        });
      return connection;
    } catch (e) {
      // a connection that arrives after the timeout must not keep the process alive
      void connecting.then((c) => c.close()).catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  });
}
