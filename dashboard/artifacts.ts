import { pipeline } from 'node:stream/promises';
import { ArtifactNotFoundError, assertKey, type ArtifactStore } from '../plumbing/store/types';
import { badRequest, notFound, sendText, type Ctx } from './http';

const TEXT = new Set(['log', 'txt', 'config', 'cfg', 'map', 'eml', 'patch', 'diff', 'sh', 'yaml', 'yml', 'csv']);
const TYPES: Record<string, string> = {
  json: 'application/json',
  gz: 'application/gzip',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  cpio: 'application/x-cpio',
  svg: 'application/octet-stream', // never rendered: an SVG can carry script
  html: 'text/plain; charset=utf-8', // shown as source, never rendered
  htm: 'text/plain; charset=utf-8',
};
const TEXT_NAMES = new Set(['config', '.config', 'system.map', 'console', 'log']);

/** Logs, configs and maps are read in the browser as text; anything else downloads. */
export function contentTypeOf(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1).toLowerCase();
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1) : '';
  if (TEXT_NAMES.has(base) || TEXT.has(ext)) return 'text/plain; charset=utf-8';
  return TYPES[ext] ?? 'application/octet-stream';
}

export function validKey(key: string): string {
  try {
    return assertKey(key);
  } catch {
    throw badRequest('key', 'invalid artifact key');
  }
}

/**
 * Stream one object of the store; 410 "expired" when the retention sweep
 * removed it (`expiredAt` says when), 404 when it was never there.
 */
export async function serveArtifact(
  store: ArtifactStore,
  ctx: Ctx,
  expiredAt: (key: string) => Promise<string | null> = async () => null,
): Promise<void> {
  const key = validKey(ctx.params.key);
  let stream;
  try {
    stream = await store.getStream(key);
  } catch (e) {
    if (!(e instanceof ArtifactNotFoundError)) throw e;
    const at = await expiredAt(key);
    if (at)
      return sendText(ctx.res, 410, `expired: ${key} was removed by the retention policy on ${at}\n`, {
        'cache-control': 'no-store',
      });
    throw notFound('artifact', 'key');
  }
  const type = contentTypeOf(key);
  ctx.res.writeHead(200, {
    'content-type': type,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'public, max-age=300',
    ...(type.startsWith('text/')
      ? {}
      : {
          'content-disposition': `attachment; filename="${key.slice(key.lastIndexOf('/') + 1).replace(/["\\]/g, '_')}"`,
        }),
  });
  if (ctx.req.method === 'HEAD') {
    stream.destroy();
    ctx.res.end();
    return;
  }
  await pipeline(stream, ctx.res).catch(() => ctx.res.destroy());
}
