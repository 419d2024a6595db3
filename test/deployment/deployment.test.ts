/**
 * The deployment for real, and the faults it must survive. One deployment
 * (deploy/hosts.ts) for the whole file: every service on a host of its own
 * (a network namespace with its own address on a bridge), a Temporal
 * server cluster of two nodes on PostgreSQL, SeaweedFS, an SMTP sink, two
 * orchestrators, two builders, two QEMU lab workers of two labs, the
 * dashboard, and an API lab's client posting over HTTP.
 *
 * Every test runs the same revision of the fixture tree (three build
 * configs; boots in farm-a, farm-b and the API lab; a boot regression and a
 * build failure) and the bisection of its regression, under a tree name of
 * its own, and injects one fault while they run. What a maintainer would
 * compare must not change: the recorded builds and boots (statuses; a boot
 * that a dead lab could not run is offline, never fail), the culprit, and
 * each report mail exactly once. Nothing of the test may be left running.
 * Each fault's delay against the fault-free run is printed at the end
 * (BENCHMARKS.md).
 *
 * Costs about 15 minutes (start-up about 1.5; see BENCHMARKS.md). Needs
 * root, the Temporal server build (scripts/build-temporal.js) and QEMU.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHostsDeployment, type HostsDeployment } from '../../deploy/hosts';
import { createSiteTree, siteConfig, siteConfigName, SITE_CONFIGS, SITE_REPOSITORY } from '../../deploy/fixtureSite';
import { BOOTFARM_SERVICES, LABS, secretsOf, SECRET_ENV } from '../../deploy/topology';
import { secretEnvVarsFor } from '../../domain/serviceSecrets';
import { testDir } from '../harness/services';
import { commandLine, environOf, parentOf, Site, type Outcome } from './support/site';
import { makeNextBuild, NEXT_BUILD_PATCH } from './support/nextBuild';

const FAULTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] as const;
const TREES = ['base', ...FAULTS.map((f) => `fault-${f}`)];

let dir: string;
let d: HostsDeployment | undefined;
let site: Site;
let baseline: Outcome;
const delays: Record<string, { elapsedS: number; delayS: number; failedAttempts: number }> = {};
const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[deployment ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);

/** What a run must show whatever the fault: the baseline's, with the tree's name in the subjects. */
function kinds(o: Outcome, tree: string) {
  return o.mails.map((m) => ({
    kind: m.subject.startsWith(`${tree}/${tree} `) ? m.subject.slice(2 * tree.length + 2).split(':')[0] : m.subject,
    copies: m.copies,
  }));
}

/**
 * The run equals the baseline: same builds and boots, the same culprit,
 * confirmed, each mail once. A boot of `deadLab` may be offline instead,
 * and then the boots that would have confirmed its verdict are not there.
 */
function expectLikeBaseline(o: Outcome, tree: string, deadLab?: string): void {
  const status = (line: string) => line.slice(line.lastIndexOf(': ') + 2);
  const key = (line: string) => line.slice(0, line.lastIndexOf(': '));
  const ofDead = (line: string) => !!deadLab && line.includes(`@${deadLab}#`);
  expect(o.builds).toEqual(baseline.builds);
  expect(o.boots.filter((l) => !ofDead(l))).toEqual(baseline.boots.filter((l) => !ofDead(l)));
  if (deadLab) {
    const before = new Map(baseline.boots.filter(ofDead).map((l) => [key(l), status(l)]));
    const now = o.boots.filter(ofDead);
    // every first boot is there, each as before or offline; nothing the baseline did not have
    expect([...before.keys()].filter((k) => k.endsWith('#0') && !now.some((l) => key(l) === k))).toEqual([]);
    for (const line of now)
      expect({ line, was: before.get(key(line)) }).toEqual({
        line,
        was: status(line) === 'offline' ? expect.any(String) : status(line),
      });
  }
  expect(o.bisection).toEqual(baseline.bisection);
  expect(kinds(o, tree)).toEqual(kinds(baseline, 'base'));
}

function record(fault: string, o: Outcome): void {
  delays[fault] = {
    elapsedS: Math.round(o.elapsedMs / 100) / 10,
    delayS: Math.round((o.elapsedMs - baseline.elapsedMs) / 100) / 10,
    failedAttempts: o.failedAttempts,
  };
  log(`${fault}: finished ${delays[fault].delayS}s later than without the fault (${delays[fault].elapsedS}s)`);
}

/** One run under a fault: the fault's own minute, retries, the restart of what it took down. */
const FAULT_TIMEOUT = 600_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Processes of the deployment that belong to no running service (a QEMU
 * whose lab worker died, a make whose builder was killed), and builds or
 * boots still running with nothing in flight.
 */
function strays(): string[] {
  const mains = new Set(Object.values(d!.pids()));
  const out: string[] = [];
  for (const pid of d!.hosts.processes()) {
    let p = pid;
    for (let i = 0; i < 64 && p > 1 && !mains.has(p); i++) p = parentOf(p);
    const cmd = commandLine(pid);
    if (!mains.has(p) && cmd) out.push(`${pid} (no service): ${cmd.slice(0, 160)}`);
    else if (/qemu-system|\bmake\b|cc1|\bgcc\b/.test(cmd)) out.push(`${pid} (still working): ${cmd.slice(0, 160)}`);
  }
  return out;
}

/** The hosts whose service runs for the whole file. */
const LONG_RUNNING = [
  ...BOOTFARM_SERVICES.filter((s) => !s.oneShot).map((s) => s.name),
  ...['temporal-1', 'temporal-2', 'results-db', 'temporal-db', 's3', 'mail', 'git', 'api-lab'],
];

/** After a fault test: nothing left over, every host's service running again. */
async function expectCleanAndWhole(): Promise<void> {
  const started = Date.now();
  let left = strays();
  if (left.length) log(`waiting for: ${left.join('; ')}`);
  for (let i = 0; i < 50 && left.length; i++) {
    await sleep(200);
    left = strays();
  }
  expect(left).toEqual([]);
  const down = LONG_RUNNING.filter((h) => !d!.running(h));
  expect(down).toEqual([]);
  log(`clean and whole (checked in ${Date.now() - started} ms)`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(testDir(), 'deployment-'));
  const fixture = await createSiteTree(join(dir, 'tree'));
  d = await startHostsDeployment({
    dir: join(dir, 'site'),
    config: siteConfig(TREES),
    repositories: { [SITE_REPOSITORY]: fixture.repo.dir },
    progress: log,
  });
  site = new Site(d, fixture, log);
}, 600_000);

afterAll(async () => {
  if (Object.keys(delays).length) {
    log(`per-fault delay (s) against the fault-free ${Math.round((baseline?.elapsedMs ?? 0) / 1000)}s:`);
    for (const [fault, r] of Object.entries(delays))
      log(`  ${fault}: +${r.delayS} (${r.elapsedS}); failed attempts ${r.failedAttempts}`);
    writeFileSync(
      join(dir, 'figures.json'),
      JSON.stringify({ startup: d?.startup, baselineMs: baseline?.elapsedMs, delays }, null, 2),
    );
  }
  await d?.teardown();
}, 300_000);

// A fault test that fails half-way must not leave its fault to the next ones: whatever it left down comes back.
afterEach(async () => {
  const down = d ? LONG_RUNNING.filter((h) => !d!.running(h)) : [];
  if (down.length) log(`bringing back what the test left down: ${down.join(', ')}`);
  for (const host of down) await d!.start(host);
}, 300_000);

describe('the deployment, every service a host of its own', () => {
  it(
    'runs each service in its own namespace with its own address, talking to the others by address, never loopback',
    async () => {
      const pids = d!.pids();
      for (const host of [...BOOTFARM_SERVICES.filter((s) => !s.oneShot).map((s) => s.name), 'api-lab']) {
        expect({ host, inHost: d!.hosts.processesOf(host).includes(pids[host]) }).toEqual({ host, inHost: true });
        const env = environOf(pids[host]);
        // names, as on real hosts: each host resolves them through its own /etc/hosts
        if (env.TEMPORAL_ADDRESS) expect(env.TEMPORAL_ADDRESS).toBe('temporal-frontend:7233');
      }
      // every TCP connection of every Bootfarm host goes to another host's address
      const { execFileSync } = await import('node:child_process');
      for (const host of ['orchestrator-1', 'builder-1', 'lab-a', 'dashboard', 'api-lab']) {
        const out = execFileSync(
          d!.hosts.host(host).prefix[0],
          [...d!.hosts.host(host).prefix.slice(1), 'ss', '-Htn', 'state', 'established'],
          {
            encoding: 'utf8',
          },
        );
        const peers = out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.trim().split(/\s+/).pop() as string);
        expect({ host, loopback: peers.filter((p) => p.startsWith('127.')) }).toEqual({ host, loopback: [] });
        expect({ host, connected: peers.length > 0 }).toEqual({ host, connected: true });
      }
    },
    FAULT_TIMEOUT,
  );

  it(
    'gives each host only the secrets its service needs',
    () => {
      const pids = d!.pids();
      const secretValues = Object.entries(d!.settings).filter(([k]) => !/URL$/.test(k));
      for (const service of BOOTFARM_SERVICES.filter((s) => !s.oneShot)) {
        const env = environOf(pids[service.name]);
        const held = SECRET_ENV.filter((v) => env[v]);
        // what the table gives it, and nothing its kind may not hold (domain/serviceSecrets.ts)
        expect({ host: service.name, held }).toEqual({ host: service.name, held: secretsOf(service) });
        expect({
          host: service.name,
          unwanted: held.filter((v) => !secretEnvVarsFor(service.kind).includes(v)),
        }).toEqual({
          host: service.name,
          unwanted: [],
        });
        // no secret hides in another variable either
        const values = Object.entries(env).filter(([k]) => !held.includes(k));
        for (const [name, value] of secretValues)
          expect({
            host: service.name,
            leaks: values.filter(([, v]) => v.includes(value)).map(([k]) => `${k} has ${name}`),
          }).toEqual({
            host: service.name,
            leaks: [],
          });
      }
      const holders = (v: string) =>
        BOOTFARM_SERVICES.filter((s) => !s.oneShot && environOf(pids[s.name])[v]).map((s) => s.kind);
      // builders run the trees' code: no database, no admin token; labs: no admin token; the dashboard alone the token
      expect(holders('BOOTFARM_ADMIN_TOKEN')).toEqual(['dashboard']);
      expect([...new Set(holders('DATABASE_URL'))].sort()).toEqual(['dashboard', 'orchestrator']);
      // only orchestrators send mail
      expect([...new Set(holders('SMTP_URL'))]).toEqual(['orchestrator']);
      // the API lab holds its lab token and nothing else; no secret on any command line (ps shows those)
      const apiEnv = environOf(pids['api-lab']);
      expect(SECRET_ENV.filter((v) => apiEnv[v])).toEqual(['BOOTFARM_LAB_TOKEN']);
      for (const pid of d!.hosts.processes()) {
        const cmd = commandLine(pid);
        for (const [name, value] of [...secretValues, ['lab token', d!.labToken]])
          expect({ pid, leaks: cmd.includes(value) ? name : undefined }).toEqual({ pid, leaks: undefined });
      }
    },
    FAULT_TIMEOUT,
  );

  it(
    'builds, boots, reports and bisects a revision with no fault (the figures every fault is held against)',
    async () => {
      baseline = await site.run('base');
      log(`fault-free run: ${Math.round(baseline.elapsedMs / 1000)}s`);
      expect(baseline.builds.filter((b) => b.startsWith('c9 '))).toEqual([
        'c9 i386-tinyconfig: fail',
        'c9 x86_64-debug: pass',
        'c9 x86_64-defconfig: pass',
      ]);
      // the head's boots, on both QEMU labs and the API lab: the debug kernel panics everywhere
      expect(baseline.boots.filter((b) => b.startsWith('c9 ') && b.endsWith('#0: fail')).length).toBeGreaterThanOrEqual(
        3,
      );
      expect(baseline.boots.filter((b) => b.startsWith('c9 x86_64-defconfig'))).toEqual([
        'c9 x86_64-defconfig qemu-x86_64@farm-a#0: pass',
        'c9 x86_64-defconfig qemu-x86_64@farm-api#0: pass',
        'c9 x86_64-defconfig qemu-x86_64@farm-b#0: pass',
      ]);
      expect(baseline.bisection).toEqual({ status: 'found', confirmed: true, culprit: site.fixture.culprit });
      expect(kinds(baseline, 'base')).toEqual([
        { kind: 'bisection', copies: 1 },
        { kind: 'boot', copies: 1 },
        { kind: 'build', copies: 1 },
      ]);
      await expectCleanAndWhole();
    },
    FAULT_TIMEOUT,
  );

  it(
    '(a) a builder killed mid-build: the build runs again on the other builder, nothing is lost',
    async () => {
      let victim = '';
      let rebooted: Promise<void> | undefined;
      const o = await site.run('fault-a', async () => {
        const { pid } = await site.startedActivity('fault-a', 'buildKernel');
        victim = Object.entries(d!.pids()).find(([, p]) => p === pid)?.[0] ?? '';
        expect(victim).toMatch(/^builder-\d$/);
        await d!.kill(victim);
        // the machine comes back after a while, as after a reboot, while the pipeline goes on
        rebooted = sleep(5000).then(() => d!.start(victim));
      });
      await rebooted;
      record('a', o);
      expectLikeBaseline(o, 'fault-a');
      expect(o.failedAttempts).toBeGreaterThan(0);
      await expectCleanAndWhole();
    },
    FAULT_TIMEOUT,
  );

  it(
    "(b) a lab worker's host killed mid-boot: the boots that lab could not run are offline, never failed",
    async () => {
      let running = '';
      const o = await site.run('fault-b', async () => {
        await site.processIn('lab-a', /qemu-system/);
        // the boot that QEMU runs: its build-boot's id names the config
        const { workflowId } = await site.startedActivity('fault-b', 'bootKernel', { pid: d!.pids()['lab-a'] });
        // each tree has build configs of its own name (fixtureSite.ts); the outcome names them as every tree does
        const config = workflowId.split(':').pop();
        running = SITE_CONFIGS.map(([c]) => c).find((c) => siteConfigName('fault-b', c) === config) ?? `? ${config}`;
        await d!.kill('lab-a');
      });
      record('b', o);
      expectLikeBaseline(o, 'fault-b', LABS['lab-a']);
      // the boot whose board died under it is offline, whatever its kernel would have done
      expect(o.boots.filter((b) => b.startsWith(`c9 ${running} qemu-x86_64@farm-a#0`))).toEqual([
        `c9 ${running} qemu-x86_64@farm-a#0: offline`,
      ]);
      await d!.start('lab-a');
      await expectCleanAndWhole();
    },
    FAULT_TIMEOUT,
  );

  it(
    '(c) a lab host cut off the network for 60 s mid-boot, then back: its boots are run, none lost or failed',
    async () => {
      const o = await site.run('fault-c', async () => {
        await site.processIn('lab-b', /qemu-system/);
        d!.cut('lab-b');
        await sleep(60_000);
        d!.restore('lab-b');
      });
      record('c', o);
      expectLikeBaseline(o, 'fault-c');
      await expectCleanAndWhole();
    },
    FAULT_TIMEOUT,
  );

  /**
   * `hosts` down (killed or stopped) for `downMs` once a build of the tree is running, then started again; the
   * run must equal the baseline.
   */
  async function outage(fault: string, hosts: string[], how: 'kill' | 'stop', downMs: number): Promise<Outcome> {
    const tree = `fault-${fault}`;
    const o = await site.run(tree, async () => {
      await site.startedActivity(tree, 'buildKernel');
      await Promise.all(hosts.map((h) => d![how](h)));
      await sleep(downMs);
      await Promise.all(hosts.map((h) => d!.start(h)));
    });
    record(fault, o);
    expectLikeBaseline(o, tree);
    await expectCleanAndWhole();
    return o;
  }

  it(
    '(d) one Temporal server node killed mid-pipeline, then restarted',
    () => outage('d', ['temporal-1'], 'kill', 15_000),
    FAULT_TIMEOUT,
  );

  it(
    '(e) the whole Temporal cluster stopped for 30 s mid-pipeline, then started',
    () => outage('e', ['temporal-1', 'temporal-2'], 'stop', 30_000),
    FAULT_TIMEOUT,
  );

  it(
    '(f) the results database stopped for 30 s mid-pipeline',
    () => outage('f', ['results-db'], 'stop', 30_000),
    FAULT_TIMEOUT,
  );

  it(
    '(g) the S3 server stopped during an upload',
    async () => {
      // a build runs: what it uploads at its end, and what the labs fetch and store, meet a dead server (down for
      // 5 s and the time weed takes to start again)
      const o = await outage('g', ['s3'], 'stop', 5000);
      expect(o.failedAttempts).toBeGreaterThan(0);
    },
    FAULT_TIMEOUT,
  );

  it(
    '(h) the SMTP server down when the reports are due: each mail arrives once, when it is back',
    async () => {
      let retried = false;
      const o = await site.run('fault-h', async (ctx) => {
        await d!.stop('mail');
        // back once the report's delivery has failed at least once
        const deadline = Date.now() + 300_000;
        while (
          !(retried = await site.retrying(ctx.reportId, 'sendRevisionReport').catch(() => false)) &&
          Date.now() < deadline
        )
          await sleep(500);
        await d!.start('mail');
      });
      record('h', o);
      expect(retried).toBe(true);
      expectLikeBaseline(o, 'fault-h');
      await expectCleanAndWhole();
    },
    FAULT_TIMEOUT,
  );

  it(
    '(i) the orchestrators replaced mid-pipeline by a new build of the worker code (patched), each old one drained',
    async () => {
      const root = makeNextBuild(join(dir, 'next-build'));
      const upgrades: { exitCode: number | null; drainMs: number }[] = [];
      // The API lab answers late this time: its boots keep the revision in flight while the new build starts (an
      // orchestrator bundles its workflow code at start: longer than this small revision takes).
      d!.pause('api-lab');
      let resumed = false;
      try {
        const o = await site.run('fault-i', async () => {
          await site.startedActivity('fault-i', 'buildKernel');
          // a rolling upgrade: one orchestrator, then the other; each old one drains once its successor polls
          for (const host of ['orchestrator-1', 'orchestrator-2']) upgrades.push(await d!.upgrade(host, root));
          d!.resume('api-lab');
          resumed = true;
        });
        record('i', o);
        log(`(i) drained in ${upgrades.map((u) => `${u.drainMs} ms`).join(' and ')}`);
        expect(upgrades.map((u) => u.exitCode)).toEqual([0, 0]);
        expectLikeBaseline(o, 'fault-i');
        const histories = await site.histories('fault-i');
        const patches = (e: (typeof histories)[number]['events'][number]) =>
          Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) =>
            (p.payloads ?? []).map((x) => Buffer.from(x.data ?? []).toString()),
          );
        const marked = (h: (typeof histories)[number]) =>
          h.events.some((e) => patches(e).some((p) => p.includes(NEXT_BUILD_PATCH)));
        // the revision the old build started went on under the new one, past its change: the new path
        expect(histories.filter((h) => h.id.startsWith('rev:') && marked(h)).length).toBe(1);
        // its build-boots, past their change under the old build, were replayed by the new one on the old path
        const builds = histories.filter((h) => h.id.startsWith('build:'));
        expect(builds.length).toBe(3);
        expect(builds.filter(marked).map((h) => h.id)).toEqual([]);
        // and no workflow task failed on either build (an unguarded change fails them on replay)
        expect(
          histories.filter((h) => h.events.some((e) => e.workflowTaskFailedEventAttributes)).map((h) => h.id),
        ).toEqual([]);
        await expectCleanAndWhole();
      } finally {
        if (!resumed) d!.resume('api-lab');
      }
    },
    FAULT_TIMEOUT,
  );

  it(
    'leaves no namespace, link, bridge or process behind',
    async () => {
      const namespaces = d!.hosts.list().map((h) => h.namespace);
      const left = await d!.teardown();
      d = undefined;
      expect(left).toEqual({ resources: { bridges: [], links: [], namespaces: [] }, processes: [] });
      expect(namespaces.length).toBe(17);
    },
    FAULT_TIMEOUT,
  );
});
