import type { Readable } from 'node:stream';
import type { ArtifactRef } from '../../domain/types';

/**
 * Where logs and artifacts live. Workflows only ever see keys (ArtifactRef);
 * the bytes go through this interface. Keys are '/'-separated relative paths
 * built from validated names (e.g. `builds/demo/abcdef012345/x86_64-defconfig/bzImage`).
 */
export interface ArtifactStore {
  readonly kind: 'dir' | 's3';
  put(key: string, body: Buffer | string, opts?: { contentType?: string }): Promise<ArtifactRef>;
  putFile(key: string, path: string, opts?: { contentType?: string }): Promise<ArtifactRef>;
  get(key: string): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  getToFile(key: string, path: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Resolves when the store answers (S3: the bucket); absent where there is nothing remote to ask. */
  check?(): Promise<void>;
  /** How log lines name the store. */
  describe?(): string;
  /** Every object whose key starts with `prefix` ('' = all), in no set order; a missing prefix lists nothing. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Remove what writers killed mid-write left behind, older than `olderThanMs` (temporary files, unfinished uploads); returns how many (a dry run counts them only). */
  sweepTemporary(olderThanMs: number, opts?: { dryRun?: boolean }): Promise<number>;
  /** Release connections (S3); a no-op where there are none. */
  close?(): void;
}

/** One object as a listing sees it. */
export interface StoredObject {
  key: string;
  size: number;
}

export class ArtifactNotFoundError extends Error {
  constructor(key: string) {
    super(`artifact not found: ${key}`);
    this.name = 'ArtifactNotFoundError';
  }
}

const KEY_PATTERN = /^(?!\/)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._+:@=/-]{1,512}$/;

/** Keys never escape the store's root and never contain shell or URL surprises. */
export function assertKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`invalid artifact key ${JSON.stringify(key)}`);
  return key;
}
