/**
 * Hosts on this machine: a bridge with a private /24, and per host a network
 * namespace with its own address on that bridge (a veth pair) and its own
 * loopback, so services reach each other by address as they would on real
 * hosts. The host end of the bridge has an address too, so this process can
 * reach every host. There is no default route and no NAT: traffic stays on
 * the bridge and the hosts' loopbacks.
 *
 * Names carry the starting process's pid (base 36) and a random tag, so
 * concurrent runs never collide and a later run can remove what a killed
 * run left behind (reapLeftovers). Interface names have at most 15
 * characters, hence the short forms:
 *   bridge     bfb<pid>_<tag>
 *   host veth  bfv<pid>_<tag>_<n>   (the namespace end is eth0)
 *   namespace  bfn_<pid>_<tag>_<host>
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2.
 */
import { execFileSync, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type Service } from './childProcess';
import { findOnPath } from '../plumbing/tools';

export interface NetHost {
  name: string;
  namespace: string;
  /** The host's address on the bridge. */
  address: string;
  /** The bridge-side end of the host's veth pair: its link. */
  link: string;
  /** argv that runs the rest of a command line inside this host. */
  prefix: string[];
}

const HOST_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const BRIDGE = /^bfb([0-9a-z]{1,5})_([0-9a-z]{3})$/;
const VETH = /^bfv([0-9a-z]{1,5})_([0-9a-z]{3})_\d{1,2}$/;
const NAMESPACE = /^bfn_([0-9a-z]{1,5})_([0-9a-z]{3})_/;

let ipPath: string | undefined;
function ipBinary(): string {
  // root's PATH has sbin; a sudo'd or cron'd one may not
  ipPath ??= findOnPath('ip') ?? ['/usr/sbin/ip', '/sbin/ip'].find((p) => existsSync(p));
  if (!ipPath) throw new Error('`ip` (iproute2) not found: install iproute2');
  return ipPath;
}

/** Runs `ip` with an argv (never a shell string); one-line error naming the command. */
function ip(...args: string[]): string {
  try {
    return execFileSync(ipBinary(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(err.stderr || err.message).trim().split('\n')[0]}`);
  }
}

/** `ip` for teardown: what is already gone is not an error. */
function ipQuiet(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    /* already gone */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function linkNames(): string[] {
  return ip('-o', 'link', 'show')
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
}

function namespaceNames(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);
}

function namespacePids(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function killNamespaceProcesses(ns: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const pids = namespacePids(ns);
    if (!pids.length) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ipv4(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** The networks (address, prefix length) of this machine's IPv4 addresses and routes. */
function usedNetworks(): [number, number][] {
  const text = `${ip('-o', '-4', 'addr', 'show')}\n${ip('-4', 'route', 'show', 'table', 'all')}`;
  return [...text.matchAll(/\b(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?\b/g)].map((m) => [ipv4(m[1]), m[2] ? Number(m[2]) : 32]);
}

function overlaps(a: number, aLen: number, b: number, bLen: number): boolean {
  const len = Math.min(aLen, bLen);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** A random /24 in 10.128.0.0/9 that no address or route of this machine overlaps. */
function freeSubnet(): string {
  const used = usedNetworks();
  for (let i = 0; i < 200; i++) {
    const [a, b] = randomBytes(2);
    const base = `10.${128 + (a % 128)}.${b}`;
    if (!used.some(([net, len]) => overlaps(ipv4(`${base}.0`), 24, net, len))) return base;
  }
  throw new Error('no free private /24 in 10.128.0.0/9 for the hosts bridge');
}

export interface Resources {
  bridges: string[];
  links: string[];
  namespaces: string[];
}

/** What of a run (its tag `<pid>_<tag>`) still exists on this machine. */
export function resourcesOf(runTag: string): Resources {
  const owned = (re: RegExp, n: string) => {
    const m = re.exec(n);
    return !!m && `${m[1]}_${m[2]}` === runTag;
  };
  const links = linkNames();
  return {
    bridges: links.filter((n) => owned(BRIDGE, n)),
    links: links.filter((n) => owned(VETH, n)),
    namespaces: namespaceNames().filter((n) => owned(NAMESPACE, n)),
  };
}

/** `ip netns exec` bind-mounts the files of /etc/netns/<namespace>/ over /etc: a host's own /etc/hosts. */
const ETC_NETNS = '/etc/netns';

async function removeResources(r: Resources): Promise<void> {
  for (const ns of r.namespaces) {
    await killNamespaceProcesses(ns);
    ipQuiet('netns', 'del', ns);
    rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
  }
  for (const link of r.links) ipQuiet('link', 'del', link);
  for (const bridge of r.bridges) ipQuiet('link', 'del', bridge);
}

/**
 * Removes the bridges, veths and namespaces (and the processes in them) of
 * runs whose starting process is gone; returns what it removed. Live runs'
 * resources are never touched.
 */
export async function reapLeftovers(): Promise<string[]> {
  const dead = (re: RegExp) => (n: string) => {
    const m = re.exec(n);
    return !!m && !pidAlive(parseInt(m[1], 36));
  };
  const links = linkNames();
  const r: Resources = {
    bridges: links.filter(dead(BRIDGE)),
    links: links.filter(dead(VETH)),
    namespaces: namespaceNames().filter(dead(NAMESPACE)),
  };
  await removeResources(r);
  return [...r.namespaces, ...r.links, ...r.bridges];
}

export class NetHosts {
  readonly runTag: string;
  readonly bridge: string;
  /** The bridge's own address: how this process reaches the hosts. */
  readonly address: string;
  readonly subnet: string;
  private readonly base: string;
  private readonly hosts = new Map<string, NetHost>();
  private readonly services: Service[] = [];
  private tornDown = false;

  private constructor() {
    if (process.getuid?.() !== 0)
      throw new Error('hosts on this machine need root (network namespaces, bridge, veth): run as root');
    const tag = Array.from(randomBytes(3), (b) => (b % 36).toString(36)).join('');
    this.runTag = `${process.pid.toString(36)}_${tag}`;
    this.bridge = `bfb${this.runTag}`;
    this.base = freeSubnet();
    this.subnet = `${this.base}.0/24`;
    this.address = `${this.base}.1`;
  }

  /** A bridge with its address, after removing what killed runs left behind. */
  static async create(): Promise<NetHosts> {
    await reapLeftovers();
    const hosts = new NetHosts();
    try {
      ip('link', 'add', 'name', hosts.bridge, 'type', 'bridge');
      ip('addr', 'add', `${hosts.address}/24`, 'dev', hosts.bridge);
      ip('link', 'set', hosts.bridge, 'up');
    } catch (e) {
      await hosts.teardown();
      throw e;
    }
    return hosts;
  }

  /** A new host: its namespace, its veth on the bridge, the next address, loopback up. */
  add(name: string): NetHost {
    if (this.tornDown) throw new Error('these hosts were torn down');
    if (!HOST_NAME.test(name))
      throw new Error(`host name ${JSON.stringify(name)}: lowercase letters, digits and '-', at most 32`);
    if (this.hosts.has(name)) throw new Error(`host ${name} exists already`);
    const n = this.hosts.size + 1;
    if (n > 99) throw new Error('at most 99 hosts per bridge');
    const host: NetHost = {
      name,
      namespace: `bfn_${this.runTag}_${name}`,
      address: `${this.base}.${n + 1}`,
      link: `bfv${this.runTag}_${n}`,
      prefix: [],
    };
    host.prefix = [ipBinary(), 'netns', 'exec', host.namespace];
    this.hosts.set(name, host);
    ip('netns', 'add', host.namespace);
    ip('link', 'add', host.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace);
    ip('link', 'set', host.link, 'master', this.bridge, 'up');
    ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
    ip('-n', host.namespace, 'link', 'set', 'eth0', 'up');
    ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
    return host;
  }

  host(name: string): NetHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} (hosts: ${[...this.hosts.keys()].join(', ') || 'none'})`);
    return h;
  }

  list(): NetHost[] {
    return [...this.hosts.values()];
  }

  /**
   * A service process inside a host, bound to this process's life like every
   * service (childProcess.ts), and stopped by teardown().
   */
  start(
    hostName: string,
    name: string,
    cmd: string,
    args: string[],
    logFile: string,
    opts: SpawnOptions = {},
  ): Service {
    const service = startService(name, cmd, args, logFile, { ...opts, prefix: this.host(hostName).prefix });
    this.services.push(service);
    return service;
  }

  /**
   * The host's /etc/hosts (for processes started after this): names other
   * hosts resolve by, several addresses to a name allowed, say one name for
   * every Temporal frontend so a gRPC client (dns:///name:port) fails over.
   */
  setNames(hostName: string, names: Record<string, string[]>): void {
    const host = this.host(hostName);
    const lines = ['127.0.0.1 localhost', `${host.address} ${host.name}`];
    for (const [name, addresses] of Object.entries(names)) {
      if (!/^[a-z0-9][a-z0-9.-]*$/i.test(name)) throw new Error(`host name ${JSON.stringify(name)} is not a DNS name`);
      for (const a of addresses) lines.push(`${a} ${name}`);
    }
    mkdirSync(join(ETC_NETNS, host.namespace), { recursive: true });
    writeFileSync(join(ETC_NETNS, host.namespace, 'hosts'), `${lines.join('\n')}\n`);
  }

  /** Cuts a host off the network: its link on the bridge goes down, as a pulled cable. */
  cut(hostName: string): void {
    ip('link', 'set', this.host(hostName).link, 'down');
  }

  restore(hostName: string): void {
    ip('link', 'set', this.host(hostName).link, 'up');
  }

  /**
   * Kills every process in a host at once (SIGKILL), as a power cut would:
   * its services and whatever they started. The host itself (namespace,
   * address, link) stays, so its services can be started again.
   */
  async kill(hostName: string): Promise<void> {
    await killNamespaceProcesses(this.host(hostName).namespace);
  }

  /** The pids of every process inside one host. */
  processesOf(hostName: string): number[] {
    return namespacePids(this.host(hostName).namespace);
  }

  /** The pids of every process inside this run's hosts (services and whatever they started). */
  processes(): number[] {
    return this.list().flatMap((h) => namespacePids(h.namespace));
  }

  /** What of this run still exists (empty after teardown). */
  remaining(): Resources {
    return resourcesOf(this.runTag);
  }

  /**
   * Stops this run's services and every other process in its namespaces,
   * then removes namespaces, veths and the bridge. Safe to call twice, and
   * after a failed create or add.
   */
  async teardown(): Promise<void> {
    this.tornDown = true;
    await Promise.all(this.services.splice(0).map((s) => s.stop(5000)));
    await removeResources(resourcesOf(this.runTag));
  }
}
