/**
 * A gzipped cpio archive in the "newc" format the kernel unpacks as its
 * initramfs, written directly: every entry is owned by root and dated
 * `mtime`, device nodes need no mknod (so no root needed), and the same
 * entries always give the same bytes.
 */
import { gzipSync } from 'node:zlib';

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; mode?: number; data: Buffer | string }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'char'; mode?: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function record(
  ino: number,
  mode: number,
  data: Buffer,
  name: string,
  mtime: number,
  rdev = { major: 0, minor: 0 },
): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const header = Buffer.from(
    [
      '070701',
      hex(ino),
      hex(mode),
      hex(0), // uid
      hex(0), // gid
      hex(mode & S_IFDIR ? 2 : 1), // nlink
      hex(mtime),
      hex(data.length),
      hex(0), // dev major
      hex(0), // dev minor
      hex(rdev.major),
      hex(rdev.minor),
      hex(nameBytes.length),
      hex(0), // check
    ].join(''),
    'ascii',
  );
  return Buffer.concat([header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)]);
}

/** The archive (uncompressed); parents must be listed before their children. */
export function cpioNewc(entries: CpioEntry[], mtime = 0): Buffer {
  const parts = entries.map((e, i) => {
    const path = e.path.replace(/^\/+/, '');
    if (!path || path.split('/').includes('..')) throw new Error(`invalid initramfs path ${JSON.stringify(e.path)}`);
    switch (e.type) {
      case 'dir':
        return record(i + 1, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), path, mtime);
      case 'file':
        return record(
          i + 1,
          S_IFREG | (e.mode ?? 0o644),
          Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data),
          path,
          mtime,
        );
      case 'symlink':
        return record(i + 1, S_IFLNK | 0o777, Buffer.from(e.target), path, mtime);
      case 'char':
        return record(i + 1, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), path, mtime, e);
    }
  });
  return Buffer.concat([...parts, record(0, 0, Buffer.alloc(0), 'TRAILER!!!', 0)]);
}

/** gzip without a name or a timestamp in its header: reproducible. */
export function gzipCpio(entries: CpioEntry[], mtime = 0): Buffer {
  return gzipSync(cpioNewc(entries, mtime), { level: 9 });
}
