/**
 * A service started by stack/childProcess.ts dies with the process that
 * started it, even when that process is SIGKILLed and runs no handler
 * (`bootfarm up` killed, a test run that crashes).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDir } from '../harness/services';

const ROOT = join(__dirname, '..', '..');

/** Gone, or a zombie nobody has reaped yet: either way no longer running. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

it('a service dies with its starter when the starter is SIGKILLed', async () => {
  const dir = mkdtempSync(join(testDir(), 'service-life-'));
  const script = `
    const { startService } = require('./stack/childProcess');
    const s = startService('sleeper', 'sleep', ['300'], ${JSON.stringify(join(dir, 'sleeper.log'))});
    process.stdout.write(String(s.child.pid) + '\\n');
    setInterval(() => {}, 1000);`;
  const starter = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve, reject) => {
    starter.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    starter.once('exit', () => reject(new Error('the starter exited before starting its service')));
  });
  expect(running(pid)).toBe(true);
  // the service becomes `sleep` itself (setpriv execs it, a moment after the spawn on a busy machine), not a wrapper around it
  const program = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  expect(await until(() => /sleep$/.test(program()), 5000)).toBe(true);

  starter.kill('SIGKILL');
  expect(await until(() => !running(pid), 5000)).toBe(true);
});
