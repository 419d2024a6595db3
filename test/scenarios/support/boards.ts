/**
 * Boards that behave like real ones, around the real QEMU adapter: a board
 * that oopses now and then (seeded, so a failing run replays), or one whose
 * hardware trips over some kernels that another lab's board boots fine.
 * A board "oopses" by booting the kernel with `fixture.panic` on its command
 * line: the fixture kernel really panics, on the console, as a kernel would.
 */
import { createHash } from 'node:crypto';
import { QemuAdapter } from '../../../activities/labs/qemu';
import type { BootContext, LabAdapter } from '../../../activities/labs/adapter';
import type { BootRequest, BootResult } from '../../../domain/types';

/** Whether this boot oopses on the board (whatever the kernel). */
export type Oops = (req: BootRequest) => boolean;

export interface Board {
  adapter: LabAdapter;
  /** the boots the board made oops, by boot key */
  oopsed: string[];
}

/** The real QEMU adapter, with the board's oopses. */
export function board(oops: Oops): Board {
  const qemu = new QemuAdapter();
  const oopsed: string[] = [];
  return {
    oopsed,
    adapter: {
      kind: 'qemu',
      boot(req: BootRequest, ctx: BootContext): Promise<BootResult> {
        if (!oops(req)) return qemu.boot(req, ctx);
        oopsed.push(req.bootKey);
        const kernelArgs = [req.platform.kernelArgs, 'fixture.panic'].filter(Boolean).join(' ');
        return qemu.boot({ ...req, platform: { ...req.platform, kernelArgs } }, ctx);
      },
    },
  };
}

/**
 * A board that oopses on `rate` of its boots, decided by a hash of the seed
 * and the boot's identity (the boot key with each commit named by its index
 * in `commits`, so the same scenario decides the same way although fixture
 * commits get new shas every run), not by the order boots arrive in.
 */
export function seededFlakes(seed: string, rate: number, commits: () => string[]): Oops {
  return (req) => {
    let key = req.bootKey;
    commits().forEach((sha, i) => (key = key.split(sha).join(`#${i}`)));
    const h = createHash('sha256').update(`${seed}\n${key}`).digest();
    return h.readUInt32BE(0) / 2 ** 32 < rate;
  };
}
