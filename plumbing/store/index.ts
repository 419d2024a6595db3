import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BootfarmConfig } from '../../domain/config';
import { DirStore } from './dirStore';
import { S3Store } from './s3Store';
import type { ArtifactStore } from './types';

export { ArtifactNotFoundError, assertKey, type ArtifactStore, type StoredObject } from './types';
export { DirStore } from './dirStore';
export { S3Store, type S3StoreOptions } from './s3Store';

/**
 * The store the config names, ready to use: the directory exists, the bucket
 * exists. A relative directory is taken from `baseDir` (default: the cwd).
 */
export async function createStore(cfg: BootfarmConfig['artifacts'], baseDir = process.cwd()): Promise<ArtifactStore> {
  if (cfg.kind === 'dir') {
    const root = resolve(baseDir, cfg.path);
    await mkdir(root, { recursive: true });
    return new DirStore(root);
  }
  const store = new S3Store(cfg);
  try {
    await store.init();
  } catch (e) {
    store.close();
    throw e;
  }
  return store;
}
