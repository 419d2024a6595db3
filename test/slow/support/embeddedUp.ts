/**
 * `bootfarm up` as a child process for the slow suites: start it on free
 * ports in a data directory, wait for a line of its output, look at what it
 * recorded, then Ctrl-C it and check that it exits 0 and leaves no process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../../stack/ports';
import { CONNECTION_ENV_VARS } from '../../../domain/envVars';

export const ROOT = join(__dirname, '..', '..', '..');

export type UpPorts = Record<'temporal' | 'ui' | 'pg' | 'dashboard', number>;

export interface Up {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  stop(): Promise<number | null>;
}

export async function freeUpPorts(): Promise<UpPorts> {
  return { temporal: await freePort(), ui: await freePort(), pg: await freePort(), dashboard: await freePort() };
}

/** `bootfarm up --data-dir DIR` on these ports, plus `args` (a config file, --no-demo …). */
export function startUp(dataDir: string, ports: UpPorts, args: string[] = []): Up {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'bootfarm.js'),
      'up',
      '--data-dir',
      dataDir,
      '--temporal-port',
      String(ports.temporal),
      '--ui-port',
      String(ports.ui),
      '--pg-port',
      String(ports.pg),
      '--dashboard-port',
      String(ports.dashboard),
      ...args,
    ],
    { cwd: ROOT, env: { ...process.env, BOOTFARM_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null) throw new Error(`bootfarm up exited (${child.exitCode}):\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async stop() {
      child.kill('SIGINT');
      const code = await exited;
      if (code !== 0) process.stderr.write(`bootfarm up exited ${code}:\n${out.split('\n').slice(-15).join('\n')}\n`);
      return code;
    },
  };
}

/** Processes whose command line names the data directory (services, QEMU). */
export function processesUsing(dataDir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dataDir)) found.push(`${pid}: ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Start `bootfarm up`, wait for `ready`, check what it shows, then Ctrl-C it: exit 0 and no process left. */
export async function whileUp(
  dataDir: string,
  ports: UpPorts,
  opts: { ready: RegExp; timeoutMs: number; args?: string[] },
  check: (up: Up, sql: postgres.Sql, client: Client) => Promise<void>,
): Promise<void> {
  const up = startUp(dataDir, ports, opts.args);
  try {
    await up.waitFor(opts.ready, opts.timeoutMs);
    const password = readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim();
    const sql = postgres(`postgres://bootfarm:${encodeURIComponent(password)}@127.0.0.1:${ports.pg}/bootfarm`, {
      max: 1,
      onnotice: () => {},
    });
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      await check(up, sql, new Client({ connection }));
    } finally {
      await sql.end();
      await connection.close();
    }
  } finally {
    expect(await up.stop()).toBe(0);
  }
  expect(processesUsing(dataDir)).toEqual([]);
}

/** The CLI as an operator runs it, with no connection settings leaking in from this environment. */
export function bootfarm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONNECTION_ENV_VARS) env[name] = '';
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'bootfarm.js'), ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Polls `probe` until it gives a value; a timeout names what was awaited and the probe's last error. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
