/**
 * What service processes depend on, opened once at start with one clear line
 * when unreachable, and as probes for their DependencyWatch afterwards.
 */
import type { Sql } from 'postgres';
import type { BootfarmConfig } from '../domain/config';
import { UserError } from '../domain/userError';
import { safeDatabaseUrl } from './db/connect';
import type { Dependency } from './dependencyWatch';
import { tcpReason } from './temporal/connections';
import { reason } from './serviceLog';
import { createStore } from './store';
import type { ArtifactStore } from './store/types';

function storeName(cfg: BootfarmConfig['artifacts']): string {
  return cfg.kind === 's3' ? `S3 bucket ${cfg.bucket}${cfg.endpoint ? ` at ${cfg.endpoint}` : ''}` : cfg.path;
}

/** S3's answers to HEAD carry no message: say what the status means. */
export function storeReason(e: unknown): string {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === 403) return 'access denied (HTTP 403): these credentials do not open this bucket';
  if (status === 404) return 'no such bucket (HTTP 404)';
  const text = reason(e);
  return status && /^Unknown/.test(text) ? `HTTP ${status}` : text;
}

/** The artifact store, checked: an S3 server that does not answer is one line naming bucket and endpoint. */
export async function openStore(config: BootfarmConfig): Promise<ArtifactStore> {
  try {
    return await createStore(config.artifacts);
  } catch (e) {
    throw new UserError(`cannot reach the artifact store (${storeName(config.artifacts)}): ${storeReason(e)}`);
  }
}

export function databaseDependency(sql: Sql, url: string): Dependency {
  return { name: `PostgreSQL at ${safeDatabaseUrl(url)}`, probe: () => sql`select 1` };
}

/**
 * `call` is one cheap request to the frontend (GetSystemInfo) with a deadline;
 * a TCP connect first says at once why a server that is gone cannot be
 * reached (the SDK retries its call until the deadline, and then says only
 * that it had no answer).
 */
export function temporalDependency(address: string, call: () => Promise<unknown>): Dependency {
  return {
    name: `Temporal at ${address}`,
    async probe() {
      const why = await tcpReason(address);
      if (why) throw new Error(why);
      await call();
    },
  };
}

/** A directory store has nothing remote to watch. */
export function storeDependency(store: ArtifactStore, config: BootfarmConfig): Dependency[] {
  const check = store.check?.bind(store);
  if (!check) return [];
  const probe = () => check().catch((e: unknown) => Promise.reject(new Error(storeReason(e))));
  return [{ name: `the artifact store (${storeName(config.artifacts)})`, probe }];
}
