/**
 * Issue 4's "done when": in the embedded stack (`bootfarm up`) with two labs,
 * a QEMU lab and a shell lab (farm2), an operator stops farm2 in the middle
 * of a pipeline. farm2's worker finishes the boot it holds and takes no
 * other; its remaining boots are recorded `offline`, the QEMU lab's boots
 * pass and fail as the kernels do, the boot report counts farm2's boots as
 * offline, `bootfarm lab list` shows farm2 offline, and `bootfarm lab start`
 * brings it back.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitChange, createFixtureRepo } from '../../fixtures/generator';
import { bootfarm, freeUpPorts, ROOT, until, whileUp, type UpPorts } from './support/embeddedUp';

const ADMIN = 'lab-stop-test-admin-token-0123456789';
const FARM2_BOOT_SECONDS = 5;

/** farm2's boot program: notes each boot it is given, takes a few seconds, then boots with the demo's lab script. */
const slowBoard = (marks: string) => `#!/bin/sh
echo "$BOOTFARM_BOOT_KEY $(date +%s%3N)" >> '${marks}'
sleep ${FARM2_BOOT_SECONDS}
exec '${join(ROOT, 'labs', 'shell', 'qemu-boot.sh')}' "$@"
`;

function configYaml(dataDir: string, ports: UpPorts, treeUrl: string, program: string): string {
  return `
dataDir: ${dataDir}
temporal: { address: 127.0.0.1:${ports.temporal}, namespace: default, uiPort: ${ports.ui} }
database: { port: ${ports.pg} }
dashboard: { port: ${ports.dashboard}, adminToken: ${ADMIN} }
builder: { ccache: false }
trees:
  - name: labstop
    url: ${treeUrl}
    branches: [{ name: master, interval: 1h }]
    buildConfigs: [x86_64-defconfig, x86_64-debug, x86_64-tiny]
    concurrency: 3
    confirmations: 0
    report: { to: [kernel-ci@lists.bootfarm.test], delay: 10m }
    bisect: { enabled: false }
buildConfigs:
  - { name: x86_64-defconfig, arch: x86_64, defconfig: defconfig }
  - { name: x86_64-debug, arch: x86_64, defconfig: debug_defconfig }
  - { name: x86_64-tiny, arch: x86_64, defconfig: tinyconfig }
platforms:
  - { name: qemu-x86_64, arch: x86_64, soc: qemu-pc, bootTimeout: 30s }
labs:
  - name: qemu
    adapter: qemu
    platforms: [{ name: qemu-x86_64, capacity: 2 }]
    scheduleToStartTimeout: 30s
    bootTimeout: 30s
    offlineGrace: 2s
  - name: farm2
    adapter: shell
    shell: { program: ${program} }
    platforms: [{ name: qemu-x86_64, capacity: 1 }]
    scheduleToStartTimeout: 10s
    bootTimeout: 30s
    offlineGrace: 2s
`;
}

describe('stopping a lab of the embedded stack during a pipeline', () => {
  let dir: string;
  let ports: UpPorts;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bf-labstop-'));
    ports = await freeUpPorts();
  });

  it("leaves its boots offline while the other lab's results are reported", async () => {
    const dataDir = join(dir, 'state');
    const marks = join(dir, 'farm2-boots');
    const program = join(dir, 'slow-board.sh');
    await writeFile(program, slowBoard(marks));
    await chmod(program, 0o755);
    const repo = await createFixtureRepo(join(dir, 'tree'));
    const head = await commitChange(repo, {
      subject: 'x86/debug: check the stack canary early',
      effect: 'break-boot',
      onlyWith: 'CONFIG_DEBUG_EXTRA',
    });
    const configFile = join(dir, 'bootfarm.yaml');
    await writeFile(configFile, configYaml(dataDir, ports, repo.dir, program));
    const api = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${ports.dashboard}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const farm2Boots = async () =>
      (await readFile(marks, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [key, ms] = line.split(' ');
          return { config: key.split(':')[3], at: Number(ms) };
        });
    const labList = async () => {
      const r = await bootfarm(['lab', 'list', '-c', configFile]);
      expect(r.stderr).toBe('');
      const health = (lab: string) => new RegExp(`^${lab}\\s+\\S+\\s+(\\S+)`, 'm').exec(r.stdout)?.[1];
      return { qemu: health('qemu'), farm2: health('farm2'), stdout: r.stdout };
    };

    await whileUp(
      dataDir,
      ports,
      { ready: /Bootfarm is up/, timeoutMs: 120_000, args: ['-c', configFile, '--no-demo'] },
      async (up, sql, client) => {
        const started = await api('/api/revisions', { tree: 'labstop', branch: 'master', commit: head });
        expect([200, 202]).toContain(started.status);
        const { workflowId } = (await started.json()) as { workflowId: string };

        // farm2 has begun its first boot: stop it.
        await until('farm2 to begin a boot', 120_000, async () => ((await farm2Boots()).length ? true : undefined));
        const stoppedAt = Date.now();
        const stop = await api('/api/labs/farm2/worker', { running: false });
        const stopped = (await stop.json()) as { state: string; running: boolean; boots: number };
        expect([stop.status, stopped.state, stopped.running]).toEqual([202, 'draining', false]);
        expect(stopped.boots).toBeGreaterThanOrEqual(1);

        const listed = await labList();
        expect([listed.qemu, listed.farm2]).toEqual(['online', 'offline']);
        expect(listed.stdout).toMatch(/^farm2 .* worker stopped: \d{4}-/m);
        const drained = await bootfarm(['lab', 'stop', 'farm2', '--wait', '-c', configFile]);
        expect([drained.code, drained.stderr]).toEqual([0, '']);
        expect(drained.stdout.trim().split('\n').pop()).toBe('lab farm2: worker stopped');

        await client.workflow.getHandle(workflowId).result();
        const boots = await sql<{ lab: string; config: string; status: string; message: string }[]>`
          select lab, config, status, message from boots where run = 0 order by lab, config`;
        const verdict = (lab: string) =>
          Object.fromEntries(boots.filter((b) => b.lab === lab).map((b) => [b.config, b.status]));
        // The QEMU lab reports as if nothing happened: the debug kernel panics, the others boot.
        const kernels = { 'x86_64-debug': 'fail', 'x86_64-defconfig': 'pass', 'x86_64-tiny': 'pass' };
        expect(verdict('qemu')).toEqual(kernels);
        // farm2 finished the boots its worker held when it was stopped (never cut short), and took no other.
        const taken = await farm2Boots();
        expect(taken.length).toBeLessThanOrEqual(2); // its one board, and one boot waiting for it
        expect(taken.filter((b) => b.at > stoppedAt).length).toBeLessThanOrEqual(1); // only the waiting one starts later
        const farm2 = verdict('farm2');
        expect(Object.keys(farm2).sort()).toEqual(Object.keys(kernels));
        for (const [config, status] of Object.entries(farm2)) {
          const expected = taken.some((b) => b.config === config) ? kernels[config as keyof typeof kernels] : 'offline';
          expect([config, status]).toEqual([config, expected]);
        }
        const offline = boots.filter((b) => b.status === 'offline');
        expect(offline.length).toBeGreaterThanOrEqual(1);
        expect(offline.every((b) => b.lab === 'farm2')).toBe(true);
        for (const b of offline)
          expect(b.message).toMatch(
            /no worker polled lab-farm2-qemu-x86_64 |no board of qemu-x86_64 in lab farm2 took the boot within \d+s, and no worker serves it now/,
          );

        // The boot report counts them (read back through the dashboard's outbox API).
        const dashboard = `http://127.0.0.1:${ports.dashboard}`;
        const name = await until('the boot report', 60_000, async () => {
          const { items } = (await (await fetch(`${dashboard}/api/outbox`)).json()) as {
            items: { name: string; subject: string }[];
          };
          return items.find((m) => m.subject.startsWith('labstop/master boot:'))?.name;
        });
        const report = (await (await fetch(`${dashboard}/api/outbox/${name}`)).json()) as {
          subject: string;
          text: string;
        };
        const count = (status: string) => boots.filter((b) => b.status === status).length;
        expect(report.subject).toMatch(
          new RegExp(
            `^labstop/master boot: 6 boots: ${count('fail')} failed, ${count('pass')} passed with ${offline.length} offline \\(`,
          ),
        );
        expect(report.text).toContain('Offline platforms (1)');
        expect(report.text.replace(/\s+/g, ' ')).toMatch(/qemu-x86_64: (x86_64-[a-z]+ \(farm2\)(, )?)+/);

        // Started again, farm2 is online.
        const start = await bootfarm(['lab', 'start', 'farm2', '-c', configFile]);
        expect([start.code, start.stdout]).toEqual([0, 'lab farm2: worker running (polling lab-farm2-qemu-x86_64)\n']);
        expect(await labList()).toMatchObject({ qemu: 'online', farm2: 'online' });
        expect(up.output()).toContain('lab farm2: worker draining');
      },
    );
  }, 300_000);
});
