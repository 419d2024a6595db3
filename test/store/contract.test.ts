import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createStore, ArtifactNotFoundError, S3Store, type ArtifactStore } from '../../plumbing/store';
import type { SeaweedS3 } from '../../stack/seaweedfs';
import { uniqueId } from '../harness/services';
import { realStores } from '../harness/realStores';

/**
 * One contract, two real stores: a directory, and S3 on a real SeaweedFS
 * started for this file. The S3 store uploads in parts from 5 MiB here so
 * that the multipart path runs too.
 */
const MiB = 1024 * 1024;
const real = realStores('store-');
let seaweed: SeaweedS3;
let scratch: string;

beforeAll(() => {
  seaweed = real.seaweed();
  scratch = real.scratch();
});

const stores: [string, () => Promise<ArtifactStore>][] = [
  real.stores[0],
  [
    's3',
    async () => {
      const store = await real.stores[1][1]();
      store.close?.();
      // the contract runs the multipart path with a 12 MiB file
      return new S3Store({
        ...seaweed,
        bucket: (store as S3Store).bucket,
        multipartThreshold: 5 * MiB,
        partSize: 5 * MiB,
      });
    },
  ],
];

describe.each(stores)('artifact store contract: %s', (kind, make) => {
  let store: ArtifactStore;
  beforeAll(async () => {
    store = await make();
  });
  afterAll(() => store?.close?.());

  it('is the kind it says', () => {
    expect(store.kind).toBe(kind);
  });

  it('puts text and binary and gets the same bytes back with their size', async () => {
    const text = await store.put('builds/demo/abcdef012345/x86_64-defconfig/build.log', 'make: ok\n');
    expect(text).toEqual({ key: 'builds/demo/abcdef012345/x86_64-defconfig/build.log', size: 9 });
    expect((await store.get(text.key)).toString()).toBe('make: ok\n');
    const bytes = randomBytes(4096);
    const bin = await store.put('builds/demo/abcdef012345/x86_64-defconfig/bzImage', bytes);
    expect(bin.size).toBe(4096);
    expect((await store.get(bin.key)).equals(bytes)).toBe(true);
  });

  it('overwrites a key with the latest body', async () => {
    await store.put('overwrite/me.txt', 'first');
    await store.put('overwrite/me.txt', 'second');
    expect((await store.get('overwrite/me.txt')).toString()).toBe('second');
  });

  it('streams a big file in and out unchanged (putFile, getToFile, getStream)', async () => {
    const src = join(scratch, `${kind}-big.bin`);
    const data = randomBytes(12 * 1024 * 1024 + 123);
    writeFileSync(src, data);
    const ref = await store.putFile('big/modules.tar.gz', src);
    expect(ref).toEqual({ key: 'big/modules.tar.gz', size: data.length });

    const dest = join(scratch, `${kind}-out`, 'nested', 'big.bin');
    await store.getToFile(ref.key, dest);
    expect(readFileSync(dest).equals(data)).toBe(true);

    const chunks: Buffer[] = [];
    for await (const c of await store.getStream(ref.key)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('answers exists, and delete removes (deleting a missing key is fine)', async () => {
    await store.put('gone/soon.txt', 'x');
    expect(await store.exists('gone/soon.txt')).toBe(true);
    await store.delete('gone/soon.txt');
    expect(await store.exists('gone/soon.txt')).toBe(false);
    await expect(store.delete('gone/soon.txt')).resolves.toBeUndefined();
  });

  it('reports a missing key as ArtifactNotFoundError from get, getStream and getToFile', async () => {
    await expect(store.get('no/such/key')).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.getStream('no/such/key')).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.getToFile('no/such/key', join(scratch, 'never'))).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(await store.exists('no/such/key')).toBe(false);
  });

  it.each(['../escape', '/abs/path', 'a//b', 'a b', 'x;rm -rf', 'a/../../b', '', 'q?x=1'])(
    'refuses the invalid key %j',
    async (key) => {
      await expect(store.put(key, 'x')).rejects.toThrow(/invalid artifact key/);
      await expect(store.get(key)).rejects.toThrow(/invalid artifact key/);
      await expect(store.exists(key)).rejects.toThrow(/invalid artifact key/);
    },
  );
});

describe('S3 store set-up', () => {
  it('creates a missing bucket on init and accepts an existing one', async () => {
    const cfg = {
      kind: 's3' as const,
      endpoint: seaweed.endpoint,
      bucket: uniqueId('bf-new-').toLowerCase(),
      region: seaweed.region,
      accessKeyId: seaweed.accessKeyId,
      secretAccessKey: seaweed.secretAccessKey,
    };
    const first = await createStore(cfg);
    await first.put('hello.txt', 'hi');
    const second = await createStore(cfg);
    expect((await second.get('hello.txt')).toString()).toBe('hi');
    first.close?.();
    second.close?.();
  });

  it('uploads a file above the threshold in parts', async () => {
    const bucket = uniqueId('bf-parts-').toLowerCase();
    const store = new S3Store({ ...seaweed, bucket, multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    await store.init();
    const src = join(scratch, 'parts.bin');
    writeFileSync(src, randomBytes(11 * MiB));
    await store.putFile('parts.bin', src);
    store.close();
    const raw = new S3Client({
      endpoint: seaweed.endpoint,
      region: seaweed.region,
      forcePathStyle: true,
      credentials: seaweed,
    });
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'parts.bin' }));
    raw.destroy();
    expect(head.ContentLength).toBe(11 * MiB);
    // S3 names a multipart object's ETag after its part count
    expect(head.ETag).toMatch(/-3"?$/);
  });

  it('fails clearly with wrong credentials', async () => {
    await expect(
      createStore({
        kind: 's3',
        endpoint: seaweed.endpoint,
        bucket: 'bf-denied',
        region: seaweed.region,
        accessKeyId: 'nobody',
        secretAccessKey: 'wrong',
      }),
    ).rejects.toThrow();
  });
});
