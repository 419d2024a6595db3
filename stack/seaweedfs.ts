import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store } from '../plumbing/store/s3Store';
import { startService, failedStart, type Service } from './childProcess';
import { freePort, waitFor } from './ports';
import { findTool } from '../plumbing/tools';

export interface SeaweedS3 {
  /** http://<host>:<port> */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** every port weed listens on: pass them again to restart it at the same endpoint */
  ports: SeaweedPorts;
  service: Service;
  stop(): Promise<void>;
}

/** The servers weed runs in one process; each gets an HTTP and a gRPC port of its own. */
const COMPONENTS = ['master', 'volume', 'filer', 's3'] as const;
type Component = (typeof COMPONENTS)[number];
export type SeaweedPorts = Record<Component, { http: number; grpc: number }>;

/** An S3 identity besides the admin one: its actions, say `['Read:bucket', 'Write:bucket', 'List:bucket']`. */
export interface SeaweedIdentity {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  actions: string[];
}

/** weed's -s3.config file: the identities with their keys and actions. */
export function s3IdentitiesConfig(identities: SeaweedIdentity[]): string {
  return JSON.stringify({
    identities: identities.map((i) => ({
      name: i.name,
      credentials: [{ accessKey: i.accessKeyId, secretKey: i.secretAccessKey }],
      actions: i.actions,
    })),
  });
}

/** The actions of a key that may read and write one bucket, and nothing else. */
export function bucketActions(bucket: string): string[] {
  return ['Read', 'Write', 'List', 'Tagging'].map((a) => `${a}:${bucket}`);
}

/**
 * A single-process SeaweedFS (master, volume, filer, S3 gateway) with one
 * admin S3 identity (and any `identities` more), for tests, the bench, a
 * local S3 demo and the deployment's S3 host. By default on free loopback
 * ports; `host` and `prefix` put it on a host of netHosts.ts, and `ports`
 * (those of an earlier start) bring it back at the same endpoint. Its data
 * lives in `dataDir`; stopping it kills the process group.
 */
export async function startSeaweedS3(opts: {
  dataDir: string;
  logFile?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** more identities beside the admin one, say a key for one bucket only (bucketActions) */
  identities?: SeaweedIdentity[];
  /** the address to listen on and to reach it by (default 127.0.0.1) */
  host?: string;
  ports?: SeaweedPorts;
  /** runs weed through this argv, say on a host of netHosts.ts */
  prefix?: string[];
}): Promise<SeaweedS3> {
  const accessKeyId = opts.accessKeyId ?? 'bootfarm';
  const secretAccessKey = opts.secretAccessKey ?? 'bootfarm-secret';
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(opts.dataDir, { recursive: true });
  const s3Config = join(opts.dataDir, 's3-identities.json');
  writeFileSync(
    s3Config,
    s3IdentitiesConfig([
      { name: 'bootfarm', accessKeyId, secretAccessKey, actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] },
      ...(opts.identities ?? []),
    ]),
    { mode: 0o600 },
  );

  // weed's default gRPC port is HTTP port + 10000, which may be taken: choose every port.
  const ports = opts.ports ?? ({} as SeaweedPorts);
  if (!opts.ports) for (const c of COMPONENTS) ports[c] = { http: await freePort(), grpc: await freePort() };
  const args = ['server', `-ip=${host}`, `-dir=${opts.dataDir}`, '-filer', '-s3', `-s3.config=${s3Config}`];
  for (const c of COMPONENTS) args.push(`-${c}.port=${ports[c].http}`, `-${c}.port.grpc=${ports[c].grpc}`);
  // Unix socket paths are limited to 108 bytes; weed's default is /tmp/seaweedfs-<component>-<port>.sock.
  if (join(opts.dataDir, 'filer.sock').length < 100)
    args.push(
      `-filer.localSocket=${join(opts.dataDir, 'filer.sock')}`,
      `-s3.localSocket=${join(opts.dataDir, 's3.sock')}`,
    );
  args.push(
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-master.telemetry=false',
    '-master.volumeSizeLimitMB=64',
    '-volume.max=16',
    '-volume.preStopSeconds=0',
  );

  const service = startService('seaweedfs', findTool('weed'), args, opts.logFile ?? join(opts.dataDir, 'weed.log'), {
    prefix: opts.prefix,
  });
  const endpoint = `http://${host}:${ports.s3.http}`;
  const region = 'us-east-1';
  const probe = new S3Store({
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    bucket: 'readiness-probe',
    maxAttempts: 1,
  });
  // weed still creates some gRPC sockets in the system temp dir, named by port.
  const strayFiles = COMPONENTS.flatMap((c) => [
    join(tmpdir(), `seaweedfs-${c}-grpc-${ports[c].grpc}.sock`),
    join(tmpdir(), `seaweedfs-${c}-${ports[c].http}.sock`),
  ]);
  const stop = async () => {
    // A graceful weed shutdown can take many seconds; its stores survive a kill.
    await service.stop(1500);
    for (const f of strayFiles) rmSync(f, { force: true });
  };
  try {
    await Promise.race([
      waitFor(
        'SeaweedFS S3',
        async () => {
          await probe.ping();
          return true;
        },
        60_000,
        100,
      ),
      service.exited.then((code) => {
        throw new Error(`exited with ${code}`);
      }),
    ]);
  } catch {
    await stop();
    return failedStart(service, `SeaweedFS S3 on ${endpoint}`);
  } finally {
    probe.close();
  }
  return { endpoint, region, accessKeyId, secretAccessKey, ports, service, stop };
}
