import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TestSummary } from '../../domain/testResults';
import type { TryFileRole, TryResult } from '../../domain/tryRun';
import { resolveConfig } from '../context';
import { answerOf, dashboardUrl } from '../dashboardApi';
import { lazy } from '../lazy';
import { runAction, UserError } from '../fail';

const connections = lazy((): typeof import('../../plumbing/temporal/connections') =>
  require('../../plumbing/temporal/connections'),
);
const admin = lazy((): typeof import('../../plumbing/db/tryAdmin') => require('../../plumbing/db/tryAdmin'));

const configOption = ['-c, --config <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)'] as const;

interface TryOptions {
  kernel: string;
  ramdisk?: string;
  dtb?: string;
  platform: string;
  lab?: string;
  plan?: string;
  token?: string;
  url?: string;
  wait: boolean;
  config?: string;
}

interface TryAnswer {
  workflowId: string;
  status: string;
  url: string;
  result?: TryResult;
  console?: string;
}

/** One call of the try API with the developer's token; a refusal becomes the server's one-line reason. */
async function call<T>(base: string, token: string, method: 'GET' | 'POST', path: string, body?: Buffer | object) {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body instanceof Buffer
          ? { 'content-type': 'application/octet-stream' }
          : body
            ? { 'content-type': 'application/json' }
            : {}),
      },
      body: body instanceof Buffer ? body : body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(300_000),
    });
  } catch (e) {
    const reason = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new UserError(`cannot reach the dashboard at ${base}: ${reason}`);
  }
  const { json } = await answerOf(res);
  if (!res.ok) {
    const error = (json as { error?: unknown } | undefined)?.error;
    const retry = res.headers.get('retry-after');
    throw new UserError(
      `${typeof error === 'string' ? error : `${method} ${path}: HTTP ${res.status}`}${retry ? ` (retry in ${retry}s)` : ''}`,
    );
  }
  return json as T;
}

async function readUpload(role: TryFileRole, path: string): Promise<Buffer> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw new UserError(`--${role} ${path}: no such file`);
  return readFile(path);
}

/** The boot and its tests, as the developer reads them after the console. */
export function describeTry(answer: TryAnswer): string {
  const boot = answer.result!.boot;
  const lines = [`boot: ${boot.status}: ${boot.message} (${answer.result!.platform} in lab ${answer.result!.lab})`];
  const tests: TestSummary | undefined = boot.tests;
  if (tests) {
    const c = tests.counts;
    lines.push(`tests: ${c.PASS} passed, ${c.FAIL} failed, ${c.SKIP} skipped, ${c.ERROR} errors, ${c.MISS} not run`);
    for (const n of tests.notPassing) lines.push(`  ${n.status.padEnd(5)} ${n.path}${n.reason ? `: ${n.reason}` : ''}`);
    if (tests.notPassingOmitted) lines.push(`  … and ${tests.notPassingOmitted} more`);
  }
  lines.push(`workflow: ${answer.url}`);
  return `${lines.join('\n')}\n`;
}

export function registerTryCommand(program: Command) {
  const tryCommand = program
    .command('try')
    .description(
      "boot your own kernel (and ramdisk and dtb) on a lab's platform, optionally with a test plan; prints the console " +
        'and the results. Needs a developer token (`bootfarm try token NAME`, given as --token or BOOTFARM_TRY_TOKEN)',
    )
    .requiredOption('--kernel <file>', "a kernel image for the platform's arch (bzImage, Image, zImage)")
    .option('--ramdisk <file>', 'an initramfs (cpio, compressed or not)')
    .option('--dtb <file>', 'a device tree blob')
    .requiredOption('--platform <name>', 'the platform to boot on')
    .option('--lab <name>', 'the lab (default: the first that has the platform)')
    .option('--plan <name>', 'a test plan to run after the boot')
    .option('--token <token>', 'your developer token (default: BOOTFARM_TRY_TOKEN)')
    .option('--url <url>', "the dashboard's URL (default: DASHBOARD_URL or the config's)")
    .option('--no-wait', 'print the run and return at once')
    .option(...configOption)
    .action(
      runAction(async (opts: TryOptions) => {
        const token = opts.token ?? process.env.BOOTFARM_TRY_TOKEN;
        if (!token) throw new UserError('a developer token is required: --token or BOOTFARM_TRY_TOKEN');
        const base = (opts.url ?? dashboardUrl(resolveConfig(opts.config).config)).replace(/\/+$/, '');
        const files: Partial<Record<TryFileRole, string>> = {};
        for (const role of ['kernel', 'ramdisk', 'dtb'] as const) {
          const path = opts[role];
          if (!path) continue;
          const data = await readUpload(role, path);
          const up = await call<{ key: string }>(base, token, 'POST', `/api/try/uploads?role=${role}`, data);
          process.stderr.write(`uploaded ${path} (${data.length} bytes) as ${up.key}\n`);
          files[role] = up.key;
        }
        const started = await call<{ workflowId: string; url: string; resultUrl: string }>(
          base,
          token,
          'POST',
          '/api/try',
          {
            ...files,
            platform: opts.platform,
            ...(opts.lab ? { lab: opts.lab } : {}),
            ...(opts.plan ? { plan: opts.plan } : {}),
          },
        );
        process.stdout.write(`started: ${started.workflowId}\n${started.url}\n`);
        if (!opts.wait) return;
        const path = `/api/try/${encodeURIComponent(started.workflowId)}`;
        const since = Date.now();
        let answer = await call<TryAnswer>(base, token, 'GET', path);
        for (let n = 1; answer.status === 'running'; n++) {
          if (n % 5 === 0) process.stderr.write(`booting… ${Math.round((Date.now() - since) / 1000)}s\n`);
          await new Promise((r) => setTimeout(r, 2000));
          answer = await call<TryAnswer>(base, token, 'GET', path);
        }
        if (answer.status !== 'completed' || !answer.result)
          throw new UserError(`the try ended ${answer.status}: see ${answer.url}`);
        process.stdout.write(answer.console ?? '');
        if (answer.console && !answer.console.endsWith('\n')) process.stdout.write('\n');
        process.stdout.write(describeTry(answer));
        const { boot } = answer.result;
        const bad = boot.tests ? boot.tests.counts.FAIL + boot.tests.counts.ERROR + boot.tests.counts.MISS : 0;
        return boot.status === 'pass' && bad === 0 ? 0 : 1;
      }),
    );
  tryCommand
    .command('token')
    .description(
      "make a developer's token for `bootfarm try` (scope try); it is printed once and only its hash is kept " +
        '(the old token stops working)',
    )
    .argument('<developer>', 'a name or e-mail address')
    .option(...configOption)
    .action(
      runAction(async (developer: string, opts: { config?: string }) => {
        const { config } = resolveConfig(opts.config);
        const sql = await connections().openDb(config);
        try {
          process.stdout.write(`${await admin().tryAdmin(sql).newToken(developer)}\n`);
          process.stderr.write(
            'bootfarm: this is the only time the token is shown; give it as --token or BOOTFARM_TRY_TOKEN\n',
          );
        } finally {
          await sql.end({ timeout: 5 });
        }
      }),
    );
  tryCommand
    .command('revoke')
    .description("revoke a developer's `bootfarm try` token")
    .argument('<developer>')
    .option(...configOption)
    .action(
      runAction(async (developer: string, opts: { config?: string }) => {
        const { config } = resolveConfig(opts.config);
        const sql = await connections().openDb(config);
        try {
          await admin().tryAdmin(sql).revoke(developer);
          process.stdout.write(`revoked the token of ${developer}\n`);
        } finally {
          await sql.end({ timeout: 5 });
        }
      }),
    );
}
