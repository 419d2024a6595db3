/**
 * scripts/build-temporal.js, which the full `npm test` runs to build the
 * deployment's Temporal server from source once per machine: one progress
 * line per step and then silence, a one-line error naming what failed with
 * nothing half-built left behind, and a lock that a dead builder does not
 * hold forever. A stand-in `go` (recording how it was called) takes the
 * real one's place: the real build is minutes long and measured in
 * BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDir } from './harness/services';
import { expectOneLineError } from './harness/oneLineError';

const ROOT = join(__dirname, '..');
const pins = JSON.parse(readFileSync(join(ROOT, 'scripts', 'pins.json'), 'utf8')) as {
  go: Record<string, { module: string; version: string; binaries: Record<string, string> }>;
};
const server = pins.go['temporal-server'];
const ui = pins.go['temporal-ui-server'];

/**
 * A `go` that logs each call (argv and the environment that matters) to
 * $FAKE_GO_LOG and either fails like a proxy refusing a module
 * ($FAKE_GO_FAIL) or installs empty executables named after the packages.
 */
const FAKE_GO = `#!${process.execPath}
const fs = require('fs'), path = require('path');
const [cmd, ...args] = process.argv.slice(2);
const e = process.env;
fs.appendFileSync(e.FAKE_GO_LOG, JSON.stringify({ cmd, args, GOPATH: e.GOPATH, GOCACHE: e.GOCACHE, GOTOOLCHAIN: e.GOTOOLCHAIN, GOFLAGS: e.GOFLAGS }) + '\\n');
if (cmd === 'install') {
  if (e.FAKE_GO_FAIL) {
    process.stderr.write('go: downloading example.org/dep v1.0.0\\nserver.go:3:2: example.org/dep@v1.0.0: reading https://proxy.golang.org/example.org/dep/@v/v1.0.0.zip: 403 Forbidden\\n\\tserver response: not available\\n');
    process.exit(1);
  }
  for (const p of args.filter((a) => a.includes('@'))) {
    const name = path.basename(p.split('@')[0]);
    fs.writeFileSync(path.join(e.GOBIN, name), '#!/bin/sh\\n', { mode: 0o755 });
  }
} else if (cmd === 'mod') {
  const dir = path.join(e.FAKE_GO_LOG + '.src');
  fs.mkdirSync(path.join(dir, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'), { recursive: true });
  process.stdout.write(JSON.stringify({ Dir: dir }));
}
`;

interface Checkout {
  root: string;
  log: string;
  env: NodeJS.ProcessEnv;
}

/** The build script alone in a checkout of its own, with an empty .tools and the fake go on PATH. */
function checkout(name: string, withGo = true): Checkout {
  const root = mkdtempSync(join(testDir(), `build-temporal-${name}-`));
  mkdirSync(join(root, 'scripts'));
  for (const f of ['build-temporal.js', 'executables.js', 'pins.json'])
    copyFileSync(join(ROOT, 'scripts', f), join(root, 'scripts', f));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  if (withGo) writeFileSync(join(bin, 'go'), FAKE_GO, { mode: 0o755 });
  const log = join(root, 'go-calls.jsonl');
  return { root, log, env: { PATH: bin, HOME: root, FAKE_GO_LOG: log } };
}

function build(c: Checkout, extraEnv: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(c.root, 'scripts', 'build-temporal.js')], {
    encoding: 'utf8',
    env: { ...c.env, ...extraEnv },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function goCalls(c: Checkout): { cmd: string; args: string[]; GOPATH: string; GOTOOLCHAIN: string; GOFLAGS: string }[] {
  return existsSync(c.log)
    ? readFileSync(c.log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
}

describe('scripts/build-temporal.js (the Temporal server of the deployment, from source)', () => {
  it('builds the pinned modules into .tools with caches there too, one line per step, then stays silent', () => {
    const c = checkout('fresh');
    const first = build(c);
    expect(first.code).toBe(0);
    expect(first.stderr.trim().split('\n')).toEqual([
      `bootfarm: building temporal-server ${server.version} (${server.module}) from the Go module proxy, once per machine: several minutes…`,
      `bootfarm: copying schema/postgresql/v12 of temporal-server ${server.version} from the module source…`,
      `bootfarm: building temporal-ui-server ${ui.version} (${ui.module}) from the Go module proxy, once per machine: several minutes…`,
    ]);
    const serverDir = join(c.root, '.tools', `temporal-server-${server.version}`);
    expect(readdirSync(join(serverDir, 'bin')).sort()).toEqual(['temporal-server', 'temporal-sql-tool']);
    expect(existsSync(join(serverDir, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'))).toBe(true);
    expect(readdirSync(join(c.root, '.tools', `temporal-ui-server-${ui.version}`, 'bin'))).toEqual([
      'temporal-ui-server',
    ]);
    const installs = goCalls(c).filter((x) => x.cmd === 'install');
    expect(installs.map((x) => x.args.filter((a) => a.includes('@')))).toEqual([
      Object.values(server.binaries).map((p) => `${server.module}/${p}@${server.version}`),
      Object.values(ui.binaries).map((p) => `${ui.module}/${p}@${ui.version}`),
    ]);
    for (const call of goCalls(c)) {
      expect(call.GOPATH).toBe(join(c.root, '.cache', 'bootfarm', 'go')); // HOME is the checkout here
      expect(call.GOTOOLCHAIN).toBe('auto'); // a release may need a newer go than the machine's
      expect(call.GOFLAGS).toBe('-modcacherw');
    }

    const again = build(c);
    expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(goCalls(c)).toHaveLength(3); // no go call the second time
  });

  it('names the failed module and the cause in one line, and leaves nothing half-built', () => {
    const c = checkout('failing');
    const r = build(c, { FAKE_GO_FAIL: '1' });
    expect(r.code).toBe(1);
    const [progress, error, ...more] = r.stderr.trim().split('\n');
    expect(progress).toMatch(/^bootfarm: building temporal-server /);
    expect(error).toMatch(
      new RegExp(
        `^bootfarm: temporal-server ${server.version}: \`go install .*\` failed: server.go:3:2: example.org/dep@v1.0.0: reading https://proxy.golang.org/.*: 403 Forbidden \\(full output: .*temporal-server-${server.version}.build.log\\)$`,
      ),
    );
    expect(more).toEqual([]);
    // only the log: no result, no staging directory, no lock
    expect(readdirSync(join(c.root, '.tools')).filter((e) => e !== 'go')).toEqual([
      `temporal-server-${server.version}.build.log`,
    ]);
  });

  it('says how to get go when it is needed and missing', () => {
    const c = checkout('no-go', false);
    expectOneLineError(
      build(c),
      new RegExp(
        `^bootfarm: temporal-server ${server.version} is not built and \`go\` is not on PATH: install Go \\(>= 1.21\\) or set TEMPORAL_SERVER_DIR to a built copy$`,
      ),
    );
  });

  it('names what a TEMPORAL_SERVER_DIR lacks rather than building over it', () => {
    const c = checkout('env-dir');
    const dir = join(c.root, 'elsewhere');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    expectOneLineError(
      build(c, { TEMPORAL_SERVER_DIR: dir }),
      /^bootfarm: TEMPORAL_SERVER_DIR=.*elsewhere lacks bin\/temporal-server, bin\/temporal-sql-tool, schema\/postgresql\/v12$/,
    );
    expect(goCalls(c)).toEqual([]);
  });

  it('takes over the lock of a builder that died, instead of waiting for it forever', () => {
    const c = checkout('stale-lock');
    const lock = join(c.root, '.tools', `temporal-server-${server.version}.lock`);
    mkdirSync(lock, { recursive: true });
    // a pid that cannot be running: above the kernel's pid_max
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    writeFileSync(join(lock, 'pid'), String(pidMax + 1));
    const r = build(c);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('waiting');
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(join(c.root, '.tools', `temporal-server-${server.version}`, 'bin', 'temporal-server'))).toBe(
      true,
    );
  });
});
