import { createReadStream } from 'node:fs';
import { copyFile, mkdir, opendir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ArtifactRef } from '../../domain/types';
import { ArtifactNotFoundError, assertKey, type ArtifactStore, type StoredObject } from './types';

/** A write in progress (or left by a killed writer): `<key>.tmp-<pid>-<random>`. */
const TEMPORARY = /\.tmp-\d+-[a-z0-9]+$/;

/** The embedded default: a directory, served by the dashboard under /artifacts/. */
export class DirStore implements ArtifactStore {
  readonly kind = 'dir' as const;
  constructor(readonly root: string) {}

  private path(key: string): string {
    return join(this.root, assertKey(key));
  }

  /** Write to a temporary name then rename, so a reader never sees half a file. */
  private async atomically(key: string, write: (tmp: string) => Promise<void>): Promise<ArtifactRef> {
    const dest = this.path(key);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await write(tmp);
    await rename(tmp, dest);
    return { key, size: (await stat(dest)).size };
  }

  put(key: string, body: Buffer | string): Promise<ArtifactRef> {
    return this.atomically(key, (tmp) => writeFile(tmp, body));
  }

  putFile(key: string, path: string): Promise<ArtifactRef> {
    return this.atomically(key, (tmp) => copyFile(path, tmp));
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(key);
      throw e;
    }
  }

  async getStream(key: string): Promise<Readable> {
    if (!(await this.exists(key))) throw new ArtifactNotFoundError(key);
    return createReadStream(this.path(key));
  }

  async getToFile(key: string, path: string): Promise<void> {
    if (!(await this.exists(key))) throw new ArtifactNotFoundError(key);
    await mkdir(dirname(path), { recursive: true });
    await copyFile(this.path(key), path);
  }

  async exists(key: string): Promise<boolean> {
    const path = this.path(key);
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    if (prefix) assertKey(prefix);
    const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    for await (const { key, path } of this.walk(dir)) {
      if (!key.startsWith(prefix) || TEMPORARY.test(key)) continue;
      const st = await stat(path).catch(() => null); // removed since the directory was read
      if (st?.isFile()) yield { key, size: st.size };
    }
  }

  /** Files under `dir` (a key prefix ending in '/', or ''), depth first. */
  private async *walk(dir: string): AsyncIterable<{ key: string; path: string }> {
    let entries;
    try {
      entries = await opendir(join(this.root, dir));
    } catch (e) {
      if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return;
      throw e;
    }
    for await (const entry of entries) {
      const key = `${dir}${entry.name}`;
      if (entry.isDirectory()) yield* this.walk(`${key}/`);
      else if (entry.isFile()) yield { key, path: join(this.root, key) };
    }
  }

  /** Remove what writers killed mid-write left (their temporary files) older than `olderThanMs`; returns how many. */
  async sweepTemporary(olderThanMs: number, opts: { dryRun?: boolean } = {}): Promise<number> {
    let removed = 0;
    const before = Date.now() - olderThanMs;
    for await (const { key, path } of this.walk('')) {
      if (!TEMPORARY.test(key)) continue;
      const st = await stat(path).catch(() => null);
      if (st && st.mtimeMs < before) {
        if (!opts.dryRun) await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
