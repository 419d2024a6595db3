/**
 * The `shell` lab adapter running a real lab script (a small sh program that
 * plays a board: it reads the kernel it is given and prints a console).
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platformSchema, type PlatformConfig } from '../../domain/config';
import { parseConfig } from '../../plumbing/loadConfig';
import type { ArtifactRef, BootRequest } from '../../domain/types';
import { bootLogKey, type BootContext } from '../../activities/labs/adapter';
import { ShellAdapter, ShellLabError } from '../../activities/labs/shell';
import { DirStore } from '../../plumbing/store/dirStore';

/** The board script: its behaviour comes from the platform's kernel arguments (BOOTFARM_KERNEL_ARGS). */
const BOARD = `#!/bin/sh
i=0
for a in "$@"; do echo "ARG[$i]=$a"; i=$((i + 1)); done
kernel=
while [ $# -gt 0 ]; do
  case $1 in --kernel) kernel=$2; shift ;; --kernel=*) kernel=\${1#--kernel=} ;; esac
  shift
done
echo "platform $BOOTFARM_PLATFORM arch $BOOTFARM_ARCH timeout $BOOTFARM_TIMEOUT"
echo "booting $(cat "$kernel")"
case $BOOTFARM_KERNEL_ARGS in
pass) echo "BOOTFARM: boot ok"; exit 0 ;;
panic) echo "[    1.234567] Kernel panic - not syncing: VFS: Unable to mount root fs"; exit 1 ;;
lying) echo "Kernel panic - not syncing: Attempted to kill init!"; exit 0 ;;
quiet-fail) echo "init: something went wrong"; exit 1 ;;
broken) echo "relay board 3 not responding" >&2; exit 3 ;;
crash) kill -SEGV $$ ;;
oom) echo "Freeing unused kernel memory"; kill -KILL $$ ;;
panic-then-oom) echo "Kernel panic - not syncing: Attempted to kill init!"; kill -KILL $$ ;;
hang) echo "waiting for the board"; sleep 600 ;;
esac
`;

let root: string;
let store: DirStore;
let kernel: ArtifactRef;
let program: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-shell-'));
  store = new DirStore(join(root, 'store'));
  kernel = await store.put('builds/fx/abc/bzImage', 'Linux version 6.1.0-fixture (test kernel)\n');
  program = join(root, 'board.sh');
  await writeFile(program, BOARD);
  await chmod(program, 0o755);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const platform = (kernelArgs: string): PlatformConfig =>
  platformSchema.parse({ name: 'board-a', arch: 'arm64', kernelArgs });

let seq = 0;
function request(kernelArgs: string, over: Partial<BootRequest> = {}): BootRequest {
  seq++;
  return {
    tree: 'fx',
    sha: 'a'.repeat(40),
    describe: 'v0.1',
    configName: 'arm64-defconfig',
    arch: 'arm64',
    platform: platform(kernelArgs),
    lab: 'scripts',
    kernel,
    timeoutMs: 10_000,
    bootKey: `build:fx:aaaaaaaaaaaa:arm64-defconfig/board-a/scripts/${seq}`,
    ...over,
  };
}

interface Recorder extends BootContext {
  heartbeats: unknown[];
  lines: string[];
}

async function context(signal = new AbortController().signal, workDirName?: string): Promise<Recorder> {
  const workDir = workDirName ? join(root, workDirName) : await mkdtemp(join(root, 'work-'));
  await mkdir(workDir, { recursive: true });
  const heartbeats: unknown[] = [];
  const lines: string[] = [];
  return { store, workDir, signal, heartbeats, lines, heartbeat: (d) => heartbeats.push(d), log: (l) => lines.push(l) };
}

/** Processes whose command line mentions `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

const consoleOf = async (key: string) => (await store.get(key)).toString('utf8');

describe('shell lab adapter running a real lab program', () => {
  const board = () => new ShellAdapter({ program, args: [], heartbeatMs: 50 });

  it('exit status 0 is a pass; the program gets the kernel and the boot facts; stdout is the stored console', async () => {
    const ctx = await context();
    const req = request('pass');
    const result = await board().boot(req, ctx);
    expect(result).toMatchObject({ status: 'pass', platform: 'board-a', lab: 'scripts', message: 'BOOTFARM: boot ok' });
    expect(result.log?.key).toBe(bootLogKey(req.bootKey));
    const log = await consoleOf(result.log!.key);
    expect(log).toContain('platform board-a arch arm64 timeout 10');
    expect(log).toContain('booting Linux version 6.1.0-fixture (test kernel)');
    expect(log).toMatch(/^ARG\[0\]=--kernel\nARG\[1\]=\/.*\/kernel\n/);
    expect(await readdir(ctx.workDir)).toEqual([]); // the boot's scratch directory is gone
  });

  it('exit status 1 is a fail, with the panic line as the message', async () => {
    const result = await board().boot(request('panic'), await context());
    expect(result).toMatchObject({
      status: 'fail',
      message: '[    1.234567] Kernel panic - not syncing: VFS: Unable to mount root fs',
    });
  });

  it('the console outranks the program: a panic on the console fails the boot even when it exits 0', async () => {
    const result = await board().boot(request('lying'), await context());
    expect(result).toMatchObject({ status: 'fail', message: 'Kernel panic - not syncing: Attempted to kill init!' });
  });

  it('exit status 1 without a failure pattern is still a fail and says how far the console got', async () => {
    const result = await board().boot(request('quiet-fail'), await context());
    expect(result.status).toBe('fail');
    expect(result.message).toBe(`${program} reported fail; last console line: init: something went wrong`);
  });

  it('any other exit status, or a crash, is an infrastructure error (thrown), never a kernel failure', async () => {
    const broken = board().boot(request('broken'), await context());
    await expect(broken).rejects.toThrow(ShellLabError);
    await expect(broken).rejects.toThrow(/exited with status 3 \(0 = pass, 1 = fail\): relay board 3 not responding/);
    await expect(board().boot(request('crash'), await context())).rejects.toThrow(/was killed by SIGSEGV/);
    await expect(
      new ShellAdapter({ program: join(root, 'no-such-board.sh') }).boot(request('pass'), await context()),
    ).rejects.toThrow(/cannot be run: ENOENT/);
  });

  it("the program killed from outside (OOM killer, operator) is the lab's failure, never fail; a panic seen before stands", async () => {
    await expect(board().boot(request('oom'), await context())).rejects.toThrow(
      /was killed by SIGKILL from outside the boot \(host OOM killer or an operator\); last console line: Freeing unused kernel memory/,
    );
    const panicked = await board().boot(request('panic-then-oom'), await context());
    expect(panicked).toMatchObject({ status: 'fail', message: 'Kernel panic - not syncing: Attempted to kill init!' });
  });

  it('a boot that outlives its timeout fails, and the program is killed with its whole process group', async () => {
    const ctx = await context();
    const started = Date.now();
    const result = await board().boot(request('hang', { timeoutMs: 1500 }), ctx);
    expect(result.status).toBe('fail');
    expect(result.message).toBe('boot timed out after 2s; last console line: waiting for the board');
    expect(Date.now() - started).toBeLessThan(6000);
    expect(ctx.heartbeats.length).toBeGreaterThan(5);
    // the script's own child (sleep 600) went with it
    expect(await processesWith(ctx.workDir)).toEqual([]);
    expect(await processesWith('sleep 600')).toEqual([]);
  });

  it('a cancelled boot kills the program and throws', async () => {
    const abort = new AbortController();
    const ctx = await context(abort.signal);
    const boot = board().boot(request('hang', { timeoutMs: 60_000 }), ctx);
    while (!ctx.lines.some((l) => l.startsWith('started '))) await new Promise((r) => setTimeout(r, 20));
    abort.abort(new Error('operator cancelled the run'));
    await expect(boot).rejects.toThrow('operator cancelled the run');
    expect(await processesWith(ctx.workDir)).toEqual([]);
  });

  it('arguments reach the program as argv, unchanged: spaces and ; in paths and configured args', async () => {
    const ctx = await context(undefined, 'work dir; touch pwned');
    const args = ['--label', 'nightly; rm -rf / $(id)', '--kernel={kernel}', '{platform}-{arch}', '--dtb={dtb}'];
    const result = await new ShellAdapter({ program, args }).boot(request('pass'), ctx);
    expect(result.status).toBe('pass');
    const log = await consoleOf(result.log!.key);
    const argv = [...log.matchAll(/^ARG\[\d+\]=(.*)$/gm)].map((m) => m[1]);
    expect(argv).toEqual([
      '--label',
      'nightly; rm -rf / $(id)',
      expect.stringMatching(/^--kernel=.*\/work dir; touch pwned\/shell-\w+\/kernel$/),
      'board-a-arm64',
      '--dtb=',
    ]);
    expect(log).toContain('booting Linux version 6.1.0-fixture');
    expect(await readdir(root)).not.toContain('pwned');
  });

  it('is built from a lab configured with adapter: shell', () => {
    const cfg = parseConfig(`
platforms: [{ name: board-a, arch: arm64 }]
labs: [{ name: scripts, adapter: shell, platforms: [board-a], shell: { program: /opt/lab/boot.sh, args: [--board, "{platform}"] } }]
`);
    expect(ShellAdapter.forLab(cfg.labs[0]).kind).toBe('shell');
  });
});
