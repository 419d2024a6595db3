import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Sql } from 'postgres';
import type { BootfarmConfig } from '../../domain/config';
import { connectDb } from '../db/connect';
import { UserError } from '../../domain/userError';

/** Connections for commands that need them (loaded only by those commands: start-up of `--help` stays fast). */
export function databaseUrl(config: BootfarmConfig): string {
  return config.database.url ?? `postgres://bootfarm:bootfarm@127.0.0.1:${config.database.port}/bootfarm`;
}

export async function openDb(config: BootfarmConfig): Promise<Sql> {
  return connectDb(databaseUrl(config));
}

async function reachable<T>(address: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (e) {
    throw new UserError(`cannot reach Temporal at ${address}: ${(e as Error).message.split('\n')[0]}`);
  }
}

export async function openClient(config: BootfarmConfig): Promise<{ client: Client; close(): Promise<void> }> {
  const { address, namespace } = config.temporal;
  const connection = await reachable(address, async () => {
    const c = await Connection.connect({ address, connectTimeout: 5000 });
    await c.workflowService.getSystemInfo({});
    return c;
  });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

export async function openWorkerConnection(config: BootfarmConfig): Promise<NativeConnection> {
  const { address } = config.temporal;
  return reachable(address, () =>
    Promise.race([
      NativeConnection.connect({ address }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 10s')), 10_000).unref()),
    ]),
  );
}
