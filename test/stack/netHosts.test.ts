/**
 * stack/netHosts.ts: hosts on this machine as network namespaces on a
 * bridge. Services reach each other by address only, a cut link makes a
 * host unreachable until restored, concurrent runs do not collide, and what
 * a killed run left behind is removed by the next one, never what a live
 * run owns.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { NetHosts, reapLeftovers, resourcesOf } from '../../stack/netHosts';
import { waitFor } from '../../stack/ports';
import { testDir } from '../harness/services';
import { isAlive } from '../slow/support/processTree';

const ROOT = join(__dirname, '..', '..');
const PORT = 7000;

/** A TCP server answering its host's name, as a one-liner for `node -e`. */
const SERVER = `require('net').createServer((s) => s.end(process.argv[1])).listen(${PORT}, process.argv[2])`;
/** Connects to argv[1]:PORT within 2 s and prints what it read, or fails. */
const CLIENT = `const s = require('net').connect(${PORT}, process.argv[1]); let got = '';
s.setTimeout(2000, () => { console.error('timeout'); process.exit(3); });
s.on('data', (d) => (got += d)); s.on('end', () => { console.log(got); process.exit(0); });
s.on('error', (e) => { console.error(e.code); process.exit(2); });`;

function fromHost(prefix: string[], address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const argv = [...prefix, process.execPath, '-e', CLIENT, address];
    execFile(argv[0], argv.slice(1), { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout.trim()),
    );
  });
}

function fromHere(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(PORT, address);
    let got = '';
    s.setTimeout(2000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

describe('hosts on this machine (network namespaces on a bridge)', () => {
  let hosts: NetHosts | undefined;
  afterEach(async () => {
    await hosts?.teardown();
    hosts = undefined;
  });

  it('connects hosts by address, not loopback; a cut link isolates a host until restored; teardown removes everything', async () => {
    const dir = mkdtempSync(join(testDir(), 'nethosts-'));
    hosts = await NetHosts.create();
    const a = hosts.add('alpha');
    const b = hosts.add('beta');
    expect(a.address).not.toBe(b.address);
    const server = hosts.start(
      'alpha',
      'server',
      process.execPath,
      ['-e', SERVER, 'alpha', a.address],
      join(dir, 'a.log'),
    );
    await waitFor('the server on alpha', () => fromHere(a.address), 10_000);
    expect(await fromHost(b.prefix, a.address)).toBe('alpha');
    expect(await fromHere(a.address)).toBe('alpha');
    // alpha's loopback is its own: the server does not listen there, and beta's loopback is not alpha's
    await expect(fromHost(a.prefix, '127.0.0.1')).rejects.toThrow(/ECONNREFUSED/);
    // no route out of the bridge: the hosts are not on this machine's other networks
    await expect(fromHost(b.prefix, '192.0.2.1')).rejects.toThrow(/ENETUNREACH|timeout/);

    hosts.cut('alpha');
    await expect(fromHost(b.prefix, a.address)).rejects.toThrow(/timeout|EHOSTUNREACH/);
    await expect(fromHere(a.address)).rejects.toThrow(/timeout|EHOSTUNREACH/);
    hosts.restore('alpha');
    expect(await waitFor('alpha back', () => fromHost(b.prefix, a.address), 10_000)).toBe('alpha');

    const pids = hosts.processes();
    expect(pids).toContain(server.child.pid);
    await hosts.teardown();
    await hosts.teardown();
    expect(hosts.remaining()).toEqual({ bridges: [], links: [], namespaces: [] });
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('gives concurrent runs their own names and subnets', async () => {
    hosts = await NetHosts.create();
    const other = await NetHosts.create();
    try {
      expect(other.runTag).not.toBe(hosts.runTag);
      expect(other.subnet).not.toBe(hosts.subnet);
      expect(hosts.add('same').namespace).not.toBe(other.add('same').namespace);
      // a live run's resources survive another run's reaper
      await reapLeftovers();
      expect(other.remaining().namespaces).toHaveLength(1);
      expect(hosts.remaining().namespaces).toHaveLength(1);
    } finally {
      await other.teardown();
    }
  });

  it('refuses bad host names and unknown hosts with one line naming what there is', async () => {
    hosts = await NetHosts.create();
    expect(() => hosts!.add('Bad Name; rm -rf /')).toThrow(/^host name "Bad Name; rm -rf \/": lowercase letters/);
    hosts.add('one');
    expect(() => hosts!.add('one')).toThrow('host one exists already');
    expect(() => hosts!.cut('two')).toThrow('no host two (hosts: one)');
    expect(() => hosts!.setNames('one', { 'bad name': ['10.0.0.1'] })).toThrow(/not a DNS name/);
  });

  it('removes what a SIGKILLed run left behind: namespaces, links, bridge and the processes inside', async () => {
    // A run in a process of its own, killed once its hosts and a process inside exist.
    const script = `
      const { NetHosts } = require(${JSON.stringify(join(ROOT, 'stack', 'netHosts'))});
      NetHosts.create().then((h) => {
        h.add('left');
        // not through h.start: a process that does not die with its starter
        require('child_process').spawn(h.host('left').prefix[0], [...h.host('left').prefix.slice(1), 'sleep', '300'], { detached: true, stdio: 'ignore' }).unref();
        console.log(h.runTag);
        setInterval(() => {}, 1000);
      });`;
    // one process (tsx as a loader, not its launcher, which would leave the run alive in a child of its own)
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const runTag = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()));
      child.on('exit', (code) => reject(new Error(`the run exited with ${code} before making its hosts`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const left = resourcesOf(runTag);
    expect(left.namespaces).toHaveLength(1);
    expect(left.bridges).toHaveLength(1);
    expect(left.links).toHaveLength(1);
    const inside = execFileSync('ip', ['netns', 'pids', left.namespaces[0]], { encoding: 'utf8' })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    expect(inside).toHaveLength(1); // the sleep, orphaned

    const removed = await reapLeftovers();
    expect(removed).toEqual(expect.arrayContaining([...left.namespaces, ...left.links, ...left.bridges]));
    expect(resourcesOf(runTag)).toEqual({ bridges: [], links: [], namespaces: [] });
    expect(inside.filter(isAlive)).toEqual([]);
  });
});
