/**
 * Another host for a test: a network namespace joined to this one by a veth
 * pair with a /30 of its own, so a service here can listen on an address
 * that is not loopback and a client there can reach it only through that
 * address. Traffic stays on the pair. Needs root and iproute2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface OtherHost {
  /** this machine's end of the pair: a service here listens on it */
  localAddress: string;
  /** the other host's address */
  address: string;
  /** runs argv in the other host; resolves with its exit code and output */
  run(argv: string[], timeoutMs?: number): { code: number | null; stdout: string; stderr: string };
  teardown(): void;
}

export function createOtherHost(): OtherHost {
  const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`.slice(-8);
  const ns = `bfo_${tag}`;
  const [here, there] = [`bfoh${tag}`.slice(0, 15), `bfot${tag}`.slice(0, 15)];
  const used = ip('-o', '-4', 'addr', 'show');
  let base = '';
  for (let i = 0; i < 50 && !base; i++) {
    const [b, c] = randomBytes(2);
    const candidate = `10.${200 + (b % 50)}.${c}`;
    if (!used.includes(`${candidate}.`)) base = candidate;
  }
  const n = 4 * (1 + Math.floor(Math.random() * 60));
  const localAddress = `${base}.${n + 1}`;
  const address = `${base}.${n + 2}`;
  const teardown = () => {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', here]);
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', here, 'type', 'veth', 'peer', 'name', there);
    ip('link', 'set', there, 'netns', ns);
    ip('addr', 'add', `${localAddress}/30`, 'dev', here);
    ip('link', 'set', here, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/30`, 'dev', there);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', there, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (e) {
    teardown();
    throw e;
  }
  return {
    localAddress,
    address,
    run(argv, timeoutMs = 20_000) {
      const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    teardown,
  };
}
