import { PlatformSlots } from '../../workers/platformSlots';

describe('a lab worker never runs more boots on a platform than the lab has boards', () => {
  it('holds the third boot of a two-board platform until one of the first two ends', async () => {
    const slots = new PlatformSlots({ 'qemu-x86_64': 2, 'qemu-arm64': 1 });
    const first = await slots.acquire('qemu-x86_64');
    const second = await slots.acquire('qemu-x86_64');
    let thirdStarted = false;
    const third = slots.acquire('qemu-x86_64').then((release) => {
      thirdStarted = true;
      return release;
    });
    // Another platform is not held up by the full one.
    const arm = await slots.acquire('qemu-arm64');
    await new Promise((r) => setTimeout(r, 20));
    expect(thirdStarted).toBe(false);
    expect(slots.inUse('qemu-x86_64')).toBe(2);
    first();
    first(); // releasing twice gives back one board only
    const releaseThird = await third;
    expect(thirdStarted).toBe(true);
    expect(slots.inUse('qemu-x86_64')).toBe(2);
    second();
    releaseThird();
    arm();
    expect(slots.inUse('qemu-x86_64')).toBe(0);
    expect(slots.inUse('qemu-arm64')).toBe(0);
  });

  it('gives up waiting when the boot is cancelled, and refuses a platform the lab does not have', async () => {
    const slots = new PlatformSlots({ board: 1 });
    const held = await slots.acquire('board');
    const cancel = new AbortController();
    const waiting = slots.acquire('board', cancel.signal);
    cancel.abort(new Error('boot cancelled'));
    await expect(waiting).rejects.toThrow('boot cancelled');
    held();
    expect(slots.inUse('board')).toBe(0);
    await expect(slots.acquire('elsewhere')).rejects.toThrow('this lab has no platform "elsewhere"');
  });
});
