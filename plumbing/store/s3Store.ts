import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { ArtifactRef } from '../../domain/types';
import { ArtifactNotFoundError, assertKey, type ArtifactStore, type StoredObject } from './types';

export interface S3StoreOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** files at least this big are uploaded in parts (default 64 MiB) */
  multipartThreshold?: number;
  /** size of each part but the last (default 16 MiB; S3's minimum is 5 MiB) */
  partSize?: number;
  /** attempts per request, the SDK's retries included (default 3) */
  maxAttempts?: number;
}

const MiB = 1024 * 1024;

// The SDK warns on every process start that releases from 2027 will need Node 22;
// Bootfarm pins its SDK version, so the warning only buries real output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function isNotFound(e: unknown): boolean {
  if (!(e instanceof S3ServiceException)) return false;
  return e.$metadata.httpStatusCode === 404 || ['NoSuchKey', 'NotFound', 'NoSuchBucket'].includes(e.name);
}

/**
 * S3 (AWS, MinIO, SeaweedFS) through @aws-sdk/client-s3, path-style so that a
 * loopback endpoint works. Files are streamed from disk, in parts when big,
 * so a modules tarball never sits in memory.
 */
export class S3Store implements ArtifactStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly endpoint?: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.endpoint = opts.endpoint;
    this.multipartThreshold = opts.multipartThreshold ?? 64 * MiB;
    this.partSize = Math.max(opts.partSize ?? 16 * MiB, 5 * MiB);
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region ?? 'us-east-1',
      forcePathStyle: true,
      maxAttempts: opts.maxAttempts,
      credentials:
        opts.accessKeyId && opts.secretAccessKey
          ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
          : undefined,
      // S3-compatible servers differ in their support of trailing checksums on streamed bodies.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Resolves when the server answers this store's credentials. */
  async ping(): Promise<void> {
    await this.client.send(new ListBucketsCommand({}));
  }

  /** Resolves when the bucket answers: needs no right beyond the bucket's own (credentials scoped to it). */
  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** Where log lines say the store is (never the keys). */
  describe(): string {
    return `S3 bucket ${this.bucket}${this.endpoint ? ` at ${this.endpoint}` : ''}`;
  }

  /** Create the bucket when it does not exist yet. */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      // another worker created it in the meantime
      if (!(e instanceof S3ServiceException && ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(e.name)))
        throw e;
    }
  }

  async put(key: string, body: Buffer | string, opts: { contentType?: string } = {}): Promise<ArtifactRef> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: assertKey(key), Body: bytes, ContentType: opts.contentType }),
    );
    return { key, size: bytes.length };
  }

  async putFile(key: string, path: string, opts: { contentType?: string } = {}): Promise<ArtifactRef> {
    assertKey(key);
    const { size } = await stat(path);
    if (size >= this.multipartThreshold) await this.putMultipart(key, path, size, opts.contentType);
    else
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: createReadStream(path),
          ContentLength: size,
          ContentType: opts.contentType,
        }),
      );
    return { key, size };
  }

  private async putMultipart(key: string, path: string, size: number, contentType?: string): Promise<void> {
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, n = 1; start < size; start += this.partSize, n++) {
        const end = Math.min(start + this.partSize, size);
        const { ETag } = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId,
            PartNumber: n,
            Body: createReadStream(path, { start, end: end - 1 }),
            ContentLength: end - start,
          }),
        );
        parts.push({ ETag, PartNumber: n });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (e) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId }))
        .catch(() => undefined);
      throw e;
    }
  }

  private async body(key: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: assertKey(key) }));
      if (!(out.Body instanceof Readable)) throw new Error(`S3 returned no readable body for ${key}`);
      return out.Body;
    } catch (e) {
      if (isNotFound(e)) throw new ArtifactNotFoundError(key);
      throw e;
    }
  }

  async get(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.body(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  getStream(key: string): Promise<Readable> {
    return this.body(key);
  }

  /** Download to a temporary name then rename, so a reader never sees half a file. */
  async getToFile(key: string, path: string): Promise<void> {
    const body = await this.body(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await pipeline(body, createWriteStream(tmp));
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: assertKey(key) }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: assertKey(key) }));
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    if (prefix) assertKey(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Abort multipart uploads a killed writer left (their parts take space) started over `olderThanMs` ago; returns how many. */
  async sweepTemporary(olderThanMs: number, opts: { dryRun?: boolean } = {}): Promise<number> {
    const before = Date.now() - olderThanMs;
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || (u.Initiated && u.Initiated.getTime() >= before)) continue;
        if (!opts.dryRun)
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }),
          );
        removed++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return removed;
  }

  /** Close the client's sockets (tests and short-lived CLI commands). */
  close(): void {
    this.client.destroy();
  }
}
