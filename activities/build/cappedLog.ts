/**
 * A build log of bounded size. A tree's Makefile may print gigabytes; the
 * stored log keeps the first quarter of the cap as it comes and the last
 * three quarters (where make says why it stopped) in a ring, with a line
 * saying how much was cut between them. Memory stays within the cap.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export const DEFAULT_MAX_LOG_BYTES = 16 * 1024 * 1024;

export class CappedLog {
  private readonly stream: WriteStream;
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private headWritten = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private cut = 0;
  failure: Error | undefined;

  constructor(
    readonly path: string,
    readonly maxBytes = DEFAULT_MAX_LOG_BYTES,
  ) {
    this.headLimit = Math.floor(maxBytes / 4);
    this.tailLimit = maxBytes - this.headLimit;
    this.stream = createWriteStream(path);
    this.stream.on('error', (e) => (this.failure ??= e));
  }

  /** bytes left out of the stored log so far */
  get cutBytes(): number {
    return this.cut + Math.max(0, this.tailSize - this.tailLimit);
  }

  write(data: Buffer | string): void {
    let chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.headWritten < this.headLimit) {
      const room = this.headLimit - this.headWritten;
      this.stream.write(chunk.subarray(0, room));
      this.headWritten += Math.min(room, chunk.length);
      if (chunk.length <= room) return;
      chunk = chunk.subarray(room);
    }
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    while (this.tailSize - this.tail[0].length >= this.tailLimit) {
      const dropped = this.tail.shift()!;
      this.tailSize -= dropped.length;
      this.cut += dropped.length;
    }
  }

  /** Write what the ring holds (after a note of the cut) and close the file. */
  async close(): Promise<void> {
    let tail = Buffer.concat(this.tail);
    let cut = this.cut;
    if (tail.length > this.tailLimit) {
      cut += tail.length - this.tailLimit;
      tail = tail.subarray(tail.length - this.tailLimit);
    }
    if (cut > 0) {
      // start the kept tail at a line, so its first line is whole
      const nl = tail.indexOf(10);
      if (nl >= 0 && nl < 4096) {
        cut += nl + 1;
        tail = tail.subarray(nl + 1);
      }
      this.stream.write(
        `\nbootfarm: [${cut} bytes of output cut here: the log keeps the first ${this.headLimit} and the last ${tail.length} bytes]\n`,
      );
    }
    this.stream.write(tail);
    this.tail = [];
    this.tailSize = 0;
    await new Promise<void>((res) => this.stream.end(res));
  }
}
