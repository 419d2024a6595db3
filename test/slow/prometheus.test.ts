/**
 * Issue 17's metrics and progress, from outside: the embedded stack
 * (`bootfarm up`) with three labs and a real Prometheus scraping its three
 * endpoints (Bootfarm's, the Temporal SDK's, the dashboard's) and
 * evaluating the committed alert rules. While a pipeline runs, `bootfarm
 * status` and the revision page (in Chromium, reloading itself) show its
 * progress. Then an operator stops lab farm2: BootfarmLabOffline fires for
 * farm2 and no other lab; farm3, stopped before the pipeline but within its
 * long grace, holds queued boots: BootfarmBacklogOld fires for its queue;
 * no infra errors, no BootfarmInfraErrorRate. No series carries a sha or a
 * workflow id. A metrics port already taken is a one-line error.
 *
 * Cost: one `bootfarm up` (~15 s), two fixture kernel builds, five short
 * boots (farm2 takes 10 s each), Prometheus: 2.5 minutes (154 s in jest, 3 min 9 s wall with
 * jest's shared services) on a 2-core machine shared with other work.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { commitChange, createFixtureRepo } from '../../fixtures/generator';
import { freePort } from '../../stack/ports';
import { bootfarm, freeUpPorts, ROOT, until, whileUp, type UpPorts } from './support/embeddedUp';
import { startPrometheus, type Prometheus } from './support/prometheus';

const ADMIN = 'prometheus-test-admin-token-0123456789';

const slowBoard = `#!/bin/sh
sleep 10
exec '${join(ROOT, 'labs', 'shell', 'qemu-boot.sh')}' "$@"
`;

interface MetricsPorts {
  bootfarm: number;
  sdk: number;
}

/** A lab of one slow board (the shell adapter running `program`). */
const slowLab = (name: string, program: string, scheduleToStartTimeout: string, offlineGrace: string) =>
  `  - name: ${name}
    adapter: shell
    shell: { program: ${program} }
    platforms: [{ name: qemu-x86_64, capacity: 1 }]
    scheduleToStartTimeout: ${scheduleToStartTimeout}
    offlineGrace: ${offlineGrace}`;

function configYaml(dataDir: string, ports: UpPorts, metrics: MetricsPorts, treeUrl: string, program: string) {
  return `
dataDir: ${dataDir}
temporal: { address: 127.0.0.1:${ports.temporal}, namespace: default, uiPort: ${ports.ui} }
database: { port: ${ports.pg} }
dashboard: { port: ${ports.dashboard}, adminToken: ${ADMIN} }
builder: { ccache: false }
metrics: { port: ${metrics.bootfarm}, temporalPort: ${metrics.sdk}, backlogAlertAge: 5s, infraErrorAlertRatio: 0.5 }
trees:
  - name: watched
    url: ${treeUrl}
    branches: [{ name: master, interval: 1h }]
    buildConfigs: [x86_64-defconfig, x86_64-debug]
    concurrency: 2
    confirmations: 0
    report: { to: [kernel-ci@lists.bootfarm.test], delay: 10m }
    bisect: { enabled: false }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
  - { name: x86_64-debug, arch: x86_64, defconfig: debug_defconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, soc: qemu-pc, bootTimeout: 30s }
labs:
  - name: qemu
    adapter: qemu
    platforms: [{ name: qemu-x86_64, capacity: 2 }]
    scheduleToStartTimeout: 60s
    offlineGrace: 2s
${slowLab('farm2', program, '60s', '2s')}
${slowLab('farm3', program, '10m', '10m')}
`;
}

const firing = async (prom: Prometheus, alertname: string) =>
  (await prom.alerts()).filter((a) => a.labels.alertname === alertname && a.state === 'firing').map((a) => a.labels);

describe('metrics a Prometheus scrapes, alerts it evaluates, and progress an operator watches', () => {
  let dir: string;
  let ports: UpPorts;
  let metrics: MetricsPorts;
  let prom: Prometheus | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bf-prometheus-'));
    ports = await freeUpPorts();
    metrics = { bootfarm: await freePort(), sdk: await freePort() };
  });

  afterAll(async () => {
    await browser?.close();
    await prom?.stop();
  });

  it('scrapes the stack through a pipeline, fires the right alerts, and shows progress everywhere', async () => {
    const dataDir = join(dir, 'state');
    const program = join(dir, 'slow-board.sh');
    await writeFile(program, slowBoard);
    await chmod(program, 0o755);
    const repo = await createFixtureRepo(join(dir, 'tree'));
    const configFile = join(dir, 'bootfarm.yaml');
    await writeFile(configFile, configYaml(dataDir, ports, metrics, repo.dir, program));
    const dashboard = `http://127.0.0.1:${ports.dashboard}`;
    const post = (path: string, body: unknown) =>
      fetch(`${dashboard}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    await whileUp(
      dataDir,
      ports,
      { ready: /Bootfarm is up/, timeoutMs: 120_000, args: ['-c', configFile, '--no-demo'] },
      async (up, sql) => {
        expect(up.output()).toContain(`metrics          http://127.0.0.1:${metrics.bootfarm}/metrics`);
        prom = await startPrometheus(dir, {
          bootfarm: [`127.0.0.1:${metrics.bootfarm}`],
          'temporal-sdk': [`127.0.0.1:${metrics.sdk}`],
          dashboard: [`127.0.0.1:${ports.dashboard}`],
        });
        const p = prom;
        // Every endpoint answers Prometheus.
        await until('all three targets up', 30_000, async () => {
          const up = await p.query('up');
          return up.length === 3 && up.every((s) => s.value[1] === '1') ? true : undefined;
        });

        // A metrics port already taken: one line, exit 1, for either endpoint. (A builder refuses the admin token.)
        const builderConfig = join(dir, 'builder.yaml');
        await writeFile(builderConfig, (await readFile(configFile, 'utf8')).replace(`, adminToken: ${ADMIN}`, ''));
        const taken = await bootfarm(['worker', 'builder', '-c', builderConfig]);
        expect(taken.code).toBe(1);
        expect(taken.stderr).toBe(
          `bootfarm: cannot serve Bootfarm metrics (metrics.port, --metrics-port) on 127.0.0.1:${metrics.bootfarm}: the port is already in use; choose another (see docs/operations.md) or stop what holds it\n`,
        );
        const sdkTaken = await bootfarm(['worker', 'builder', '-c', builderConfig, '--metrics-port', '0']);
        expect(sdkTaken.code).toBe(1);
        expect(sdkTaken.stderr).toMatch(
          new RegExp(
            `^bootfarm: cannot serve Temporal SDK metrics \\(.*\\) on 127\\.0\\.0\\.1:${metrics.sdk}: the port is already in use[^\\n]*\\n$`,
          ),
        );

        // The tree's schedule tests its first head at start-up: everything boots everywhere.
        await until('the first revision to end', 120_000, async () => {
          const [rev] = await sql<{ status: string }[]>`select status from revisions where tree = 'watched'`;
          return rev?.status === 'done' ? true : undefined;
        });
        const head = await commitChange(repo, {
          subject: 'x86/debug: check the stack canary early',
          effect: 'break-boot',
          onlyWith: 'CONFIG_DEBUG_EXTRA',
        });

        // farm3 stopped before the next pipeline: within its 10-minute grace its boots are queued, and wait.
        expect([200, 202]).toContain((await post('/api/labs/farm3/worker', { running: false })).status);
        const started = await post('/api/revisions', { tree: 'watched', branch: 'master', commit: head });
        expect([200, 202]).toContain(started.status);

        // The revision page, opened while the revision runs: it reloads itself, and its figures move.
        const revisionId = await until('the revision to be recorded', 60_000, async () => {
          const [rev] = await sql<{ id: string }[]>`select id from revisions where tree = 'watched' and sha = ${head}`;
          return rev?.id;
        });
        browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
        const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
        await page.goto(`${dashboard}/revisions/${revisionId}`);
        const text = () => page.locator('.live-progress .progress-text').innerText();
        const first = await text();
        expect(first).toMatch(/^builds \d\/2/);

        // bootfarm status, while it runs: the revision, its builds and boots per lab.
        const status = await until('bootfarm status to show the running revision', 60_000, async () => {
          const r = await bootfarm(['status', 'watched', '-c', configFile]);
          if (r.code === 0 && /builds \d\/2/.test(r.stdout)) return r;
          throw new Error(`status said: ${r.stdout}${r.stderr}`);
        });
        expect(status.stderr).toBe('');
        expect(status.stdout).toMatch(/^Revisions running \(1\):\n {2}watched\/master \S+, started /);
        expect(status.stdout).toMatch(/boots \d\/6 \(farm2 \d\/2, farm3 0\/2, qemu \d\/2\)/);
        expect(status.stdout).toContain(`${dashboard}/revisions/${revisionId}`);
        const bad = await bootfarm(['status', 'no such tree', '-c', configFile]);
        expect([bad.code, bad.stderr.split('\n').length]).toEqual([1, 2]);

        // qemu's and farm2's boots end (farm2's one board takes them in turn); farm3's stay queued.
        const seen = await until('the page to show qemu and farm2 done, farm3 waiting', 180_000, async () => {
          const t = await text().catch(() => '');
          return /farm2 2\/2, farm3 0\/2, qemu 2\/2/.test(t) ? t : undefined;
        });
        expect(seen).toMatch(/^builds 2\/2, boots 4\/6 /); // the debug kernel that panics built fine
        expect(seen).not.toBe(first);
        // The page changed by reloading itself (nothing navigated it); asked now, it still says to (the browser may be mid-reload).
        const html = await (await fetch(`${dashboard}/revisions/${revisionId}`)).text();
        expect(html.match(/<meta http-equiv="refresh" content="\d+"/g)).toHaveLength(1);
        // The same figures from bootfarm status.
        const again = await bootfarm(['status', '-c', configFile]);
        expect(again.stdout).toContain('boots 4/6 (farm2 2/2, farm3 0/2, qemu 2/2)');

        // Scraped: boots by lab, platform, tree and status (both revisions: 6 + 4 ended); durations; the SDK's and
        // the dashboard's own.
        const boots = async (q: string) => Number((await p.query(q))[0]?.value[1] ?? NaN);
        await until('the boots to be scraped', 30_000, async () =>
          (await boots('sum(bootfarm_boots_total{tree="watched", status=~"pass|fail"})')) === 10 ? true : undefined,
        );
        expect(await boots('sum(bootfarm_boots_total{lab="qemu", platform="qemu-x86_64", status="fail"})')).toBe(1);
        expect(await boots('sum(bootfarm_builds_total{tree="watched", arch="x86_64", status="pass"})')).toBe(4);
        expect(await boots('sum(bootfarm_boot_duration_seconds_count{lab="farm2"})')).toBe(4);
        expect(await boots('sum(bootfarm_queue_backlog_tasks{lab="farm3"})')).toBe(2);
        expect(await boots('bootfarm_lab_up{lab="qemu"}')).toBe(1);
        expect(await boots('bootfarm_revisions_running{tree="watched"}')).toBe(1);
        expect((await p.query('temporal_workflow_task_execution_latency_seconds_count')).length).toBeGreaterThan(0);
        expect(
          await boots('sum(bootfarm_dashboard_request_duration_seconds_count{route="/revisions/{id}"})'),
        ).toBeGreaterThanOrEqual(2);

        // Nothing fires yet but farm3's old backlog; then farm2 is stopped, and stays away past its grace.
        const backlog = await until('BootfarmBacklogOld', 60_000, async () => {
          const a = await firing(p, 'BootfarmBacklogOld');
          return a.length ? a : undefined;
        });
        expect(backlog).toEqual([
          {
            alertname: 'BootfarmBacklogOld',
            severity: 'warning',
            queue: 'lab-farm3-qemu-x86_64',
            lab: 'farm3',
            platform: 'qemu-x86_64',
          },
        ]);
        expect(await firing(p, 'BootfarmLabOffline')).toEqual([]);
        expect([200, 202]).toContain((await post('/api/labs/farm2/worker', { running: false })).status);
        const offline = await until('BootfarmLabOffline', 60_000, async () => {
          const a = await firing(p, 'BootfarmLabOffline');
          return a.length ? a : undefined;
        });
        // farm2 only: qemu serves, farm3 is within its grace.
        expect(offline).toEqual([{ alertname: 'BootfarmLabOffline', severity: 'warning', lab: 'farm2' }]);
        expect(await firing(p, 'BootfarmInfraErrorRate')).toEqual([]);
        expect(await boots('bootfarm_lab_up{lab="farm2"}')).toBe(0);

        // Bounded labels: no sha, no workflow id, in any of Bootfarm's series.
        const series = await p.series('{__name__=~"bootfarm_.+"}');
        expect(series.length).toBeGreaterThan(50);
        const values = [
          ...new Set(series.flatMap((s) => Object.entries(s).filter(([k]) => k !== '__name__')).map(([, v]) => v)),
        ];
        expect(values.filter((v) => /[0-9a-f]{12}/.test(v) || /^(rev|build|bisect|report):/.test(v))).toEqual([]);
      },
    );
  }, 420_000);
});
