/**
 * `bootfarm …` as a service host runs it: a process whose environment holds
 * none of the test run's own connection settings or secrets, only `env`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'bootfarm.js');
const CLEARED =
  /^(BOOTFARM_|DATABASE_URL$|TEMPORAL_|S3_|AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)$|SMTP_URL$|DASHBOARD_URL$)/;

export interface ServiceRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs to its end; with `stopWhen`, sends one SIGTERM once stdout matches it (a service that came up). */
export function runService(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; stopWhen?: RegExp; timeoutMs?: number },
): Promise<ServiceRun> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CLEARED.test(k)) base[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...base, ...opts.env } });
  let stdout = '';
  let stderr = '';
  let stopping = false;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (opts.stopWhen && !stopping && opts.stopWhen.test(stdout)) stopping = child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
