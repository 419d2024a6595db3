/**
 * `npm start` end to end: `bootfarm up` on free ports in a fresh data
 * directory brings the whole stack up, the demo tree builds, boots on two
 * labs, reports, regresses and is bisected; Ctrl-C stops every process; a
 * second start finds what the first recorded.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CULPRIT_SUBJECT } from '../../stack/demo';
import { freeUpPorts, whileUp, type UpPorts } from './support/embeddedUp';

describe('npm start: the embedded stack and its demo', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'bf-embedded-')), 'state');
  let ports: UpPorts;

  beforeAll(async () => {
    ports = await freeUpPorts();
  });

  it('builds, boots, reports, bisects, shows it all, and stops cleanly', async () => {
    const ready = /demo: +the workflow +http/;
    await whileUp(dataDir, ports, { ready, timeoutMs: 600_000 }, async (up, sql, client) => {
      expect(up.output()).toContain(`Temporal Web UI  http://127.0.0.1:${ports.ui}/namespaces/default/workflows`);
      // The demo's last lines tell the story in words, not as a JSON object.
      const story = up.output().slice(up.output().indexOf('demo: What happened'));
      expect(story).toMatch(/x86_64-debug no longer boots on qemu-x86_64/);
      expect(story).toMatch(/i386-tinyconfig no longer builds/);
      expect(story).toContain(`"${DEMO_CULPRIT_SUBJECT}" (confirmed)`);
      expect(story).toMatch(/Check verify: passed/);
      expect(story).toMatch(/Check revert: passed/);
      expect(story).toMatch(/to .*jane\.hacker@fixture\.example\.org/);
      expect(story).toContain(`http://127.0.0.1:${ports.dashboard}/bisections/`);
      expect(story).not.toMatch(/[{}]/);
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
    await whileUp(
      dataDir,
      ports,
      { ready: /already been through its story/, timeoutMs: 180_000 },
      async (_up, sql, client) => {
        const [{ n }] = await sql`select count(*)::int as n from revisions`;
        expect(n).toBeGreaterThanOrEqual(2);
        const bisections: string[] = [];
        for await (const wf of client.workflow.list({ query: 'BfKind = "bisect"' })) bisections.push(wf.workflowId);
        expect(bisections).toHaveLength(1);
      },
    );
  }, 600_000);
});
