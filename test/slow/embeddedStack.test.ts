/**
 * `npm start` end to end: `bootfarm up` on free ports in a fresh data
 * directory brings the whole stack up, the demo tree builds, boots on two
 * labs, reports, regresses and is bisected; Ctrl-C stops every process; a
 * second start finds what the first recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../stack/ports';
import { DEMO_CULPRIT_SUBJECT } from '../../stack/demo';

const ROOT = join(__dirname, '..', '..');

interface Up {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  stop(): Promise<number | null>;
}

function startUp(dataDir: string, ports: Record<'temporal' | 'ui' | 'pg' | 'dashboard', number>): Up {
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
function processesUsing(dataDir: string): string[] {
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

describe('npm start: the embedded stack and its demo', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'bf-embedded-')), 'state');
  let ports: Record<'temporal' | 'ui' | 'pg' | 'dashboard', number>;

  beforeAll(async () => {
    ports = { temporal: await freePort(), ui: await freePort(), pg: await freePort(), dashboard: await freePort() };
  });

  /** Start `bootfarm up`, wait for `ready`, check what it shows, then Ctrl-C it: exit 0 and no process left. */
  async function whileUp(
    ready: RegExp,
    timeoutMs: number,
    check: (up: Up, sql: postgres.Sql, client: Client) => Promise<void>,
  ) {
    const up = startUp(dataDir, ports);
    try {
      await up.waitFor(ready, timeoutMs);
      const sql = postgres(`postgres://bootfarm:bootfarm@127.0.0.1:${ports.pg}/bootfarm`, {
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

  it('builds, boots, reports, bisects, shows it all, and stops cleanly', async () => {
    await whileUp(/demo: bisection result/, 600_000, async (up, sql, client) => {
      expect(up.output()).toContain(`Temporal Web UI  http://127.0.0.1:${ports.ui}/namespaces/default/workflows`);
      // Passing and failing builds and boots, in PostgreSQL.
      const builds = await sql`select status, count(*)::int as n from builds group by status`;
      expect(Object.fromEntries(builds.map((b) => [b.status, b.n]))).toMatchObject({
        pass: expect.any(Number),
        fail: expect.any(Number),
      });
      const boots = await sql`select status, lab from boots where run = 0`;
      expect(new Set(boots.map((b) => b.status))).toEqual(new Set(['pass', 'fail']));
      expect(new Set(boots.map((b) => b.lab))).toEqual(new Set(['qemu', 'farm2']));
      // The regression, bisected to the culprit, confirmed.
      const [bisection] = await sql`select status, verdict from bisections`;
      expect(bisection.status).toBe('found');
      expect(bisection.verdict.confirmed).toBe(true);
      expect(bisection.verdict.culprit.subject).toBe(DEMO_CULPRIT_SUBJECT);
      const [regression] = await sql`select kind, config, platform from regressions where kind = 'boot'`;
      expect(regression).toEqual({ kind: 'boot', config: 'x86_64-debug', platform: 'qemu-x86_64' });

      // The Web UI's workflows, filterable by Bootfarm's search attributes.
      const revisions: string[] = [];
      for await (const wf of client.workflow.list({
        query: 'BfKind = "revision" AND BfTree = "demo" AND BfResult = "fail"',
      }))
        revisions.push(wf.workflowId);
      expect(revisions.length).toBeGreaterThanOrEqual(1);

      // The dashboard and the outbox: build and boot reports and the bisection email.
      const home = await (await fetch(`http://127.0.0.1:${ports.dashboard}/`)).text();
      expect(home).toContain('demo');
      const outbox = readdirSync(join(dataDir, 'outbox'));
      expect(outbox.some((f) => f.startsWith('build.'))).toBe(true);
      expect(outbox.some((f) => f.startsWith('boot.'))).toBe(true);
      const bisectMail = outbox.find((f) => f.startsWith('bisect.'));
      expect(bisectMail).toBeDefined();
      const eml = readFileSync(join(dataDir, 'outbox', bisectMail as string), 'utf8');
      expect(eml).toMatch(/^To: .*jane\.hacker@fixture\.example\.org/m);
      expect(eml).toContain('git bisect');
    });
  }, 900_000);

  it('finds everything the first start recorded when started again', async () => {
    await whileUp(/already been through its story/, 180_000, async (_up, sql, client) => {
      const [{ n }] = await sql`select count(*)::int as n from revisions`;
      expect(n).toBeGreaterThanOrEqual(2);
      const bisections: string[] = [];
      for await (const wf of client.workflow.list({ query: 'BfKind = "bisect"' })) bisections.push(wf.workflowId);
      expect(bisections).toHaveLength(1);
    });
  }, 600_000);
});
