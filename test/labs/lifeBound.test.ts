/**
 * A board's program (QEMU, a lab script) dies with the lab worker that
 * started it, even when the worker is SIGKILLed and runs no exit hook, and
 * never outlives its time limit.
 */
import { spawn } from 'node:child_process';
import { lifeBound } from '../../activities/labs/lifeBound';
import { descendants, ended } from '../slow/support/processTree';

/** A stand-in for a lab worker: a process that starts `argv` (detached, as the adapters do) and lives on. */
function fakeWorker(argv: string[]) {
  const script = `require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { detached: true, stdio: 'ignore' }); setInterval(() => {}, 1000);`;
  return spawn(process.execPath, ['-e', script, ...argv], { stdio: 'ignore' });
}

async function startedBy(pid: number, name: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const p = descendants(pid).find((d) => d.argv[0]?.endsWith(name) && d.argv.includes('600'));
    if (p) return p.pid;
    if (Date.now() > deadline) throw new Error(`${name} never started`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lifeBound', () => {
  it('a program ends within moments of its worker being SIGKILLed', async () => {
    const [command, args] = await lifeBound('sleep', ['600'], 3_600_000);
    const worker = fakeWorker([command, ...args]);
    const exited = new Promise((r) => worker.once('exit', r));
    const sleep = await startedBy(worker.pid as number, 'sleep');
    worker.kill('SIGKILL');
    await exited;
    try {
      expect(await ended(sleep, 3000)).toBe(true);
    } finally {
      if (!(await ended(sleep, 0))) process.kill(sleep, 'SIGKILL'); // no orphan, even when the test fails
    }
  });

  it('a program ends at its time limit even while its worker lives', async () => {
    const [command, args] = await lifeBound('sleep', ['600'], 1000);
    const started = Date.now();
    const child = spawn(command, args, { stdio: 'ignore' });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(124); // coreutils timeout: the time was up
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('leaves a program it cannot find unwrapped, so that starting it fails as it would have (ENOENT)', async () => {
    expect(await lifeBound('no-such-board-program', ['x'], 1000)).toEqual(['no-such-board-program', ['x']]);
    expect(await lifeBound('./board.sh', [], 1000, { cwd: '/nonexistent' })).toEqual(['./board.sh', []]);
  });
});
