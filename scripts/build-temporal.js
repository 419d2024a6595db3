#!/usr/bin/env node
/**
 * Builds the Temporal server of the deployment from the Go module proxy,
 * once per machine, into .tools/: `temporal-server` and `temporal-sql-tool`
 * (module go.temporal.io/server) with the module's PostgreSQL schemas, and
 * `temporal-ui-server` (module github.com/temporalio/ui-server/v2), at the
 * versions pinned in scripts/pins.json ("go"). Plain JavaScript with no
 * dependencies, like bootstrap.js, which calls it for the full `npm test`.
 *
 * Silent when already built; one progress line per step otherwise; a
 * one-line error naming what failed (the go command's full output stays in
 * a log file next to the result). The Go toolchain, module and build caches
 * live under $BOOTFARM_CACHE_DIR/go (~/.cache/bootfarm/go), so a fresh machine needs nothing but `go` (any
 * version >= 1.21: GOTOOLCHAIN=auto fetches the one a release asks for).
 * Several checkouts may share .tools (a symlink): a lock makes a second
 * builder wait for the first instead of building twice, and a result only
 * appears, by rename, once complete.
 *
 *   node scripts/build-temporal.js          build what is missing
 *   node scripts/build-temporal.js --print  also print the result directories
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { join, basename } = require('node:path');
const { isExecutable, onPath } = require('./executables');

const ROOT = join(__dirname, '..');
const TOOLS = join(ROOT, '.tools');
const PINS = JSON.parse(fs.readFileSync(join(__dirname, 'pins.json'), 'utf8')).go;
// Go's toolchains and module and build caches are scratch for building, kept with the project's other caches
// (as realLinux/paths.ts places its own) and outside the repository: they hold third-party sources and docs.
const CACHE =
  process.env.BOOTFARM_CACHE_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(require('node:os').homedir(), '.cache'), 'bootfarm');
const GO = join(CACHE, 'go');

class BuildError extends Error {}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Where a pinned module's build lives: .tools/<key>-<version>, or the directory its env variable names. */
function resultDir(key) {
  const pin = PINS[key];
  return process.env[pin.env] || join(TOOLS, `${key}-${pin.version}`);
}

function missingParts(dir, pin) {
  return [
    ...Object.keys(pin.binaries)
      .map((b) => join('bin', b))
      .filter((p) => !isExecutable(join(dir, p))),
    ...pin.keep.filter((p) => !fs.existsSync(join(dir, p))),
  ];
}

/** The environment of every go command here: caches and toolchains under the cache directory's go/, static binaries. */
function goEnv(extra) {
  return {
    ...process.env,
    GOPATH: GO,
    GOMODCACHE: join(GO, 'pkg', 'mod'),
    GOCACHE: join(GO, 'cache'),
    GOTOOLCHAIN: 'auto',
    // A read-only module cache (go's default) could not be removed with rm -rf by whoever cleans .tools.
    GOFLAGS: '-modcacherw',
    CGO_ENABLED: '0',
    ...extra,
  };
}

/** One mkdir-based lock per build; a lock whose owner died is taken over. */
function withLock(lockDir, what, fn) {
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        /* being created or removed: look again */
      }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        // Move it aside first, so two waiters cannot both delete a live successor's lock.
        const stale = `${lockDir}.stale-${process.pid}`;
        try {
          fs.renameSync(lockDir, stale);
          fs.rmSync(stale, { recursive: true, force: true });
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      if (!told && Number.isInteger(owner)) {
        process.stderr.write(`bootfarm: waiting for the ${what} build of process ${owner}…\n`);
        told = true;
      }
      sleep(2000);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function runGo(go, args, env, log, what) {
  const niced = onPath('nice') ? ['nice', ['-n', '10', go, ...args]] : [go, args];
  fs.appendFileSync(log, `\n$ go ${args.join(' ')}\n`);
  const r = spawnSync(niced[0], niced[1], { cwd: TOOLS, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  fs.appendFileSync(log, `${r.stdout || ''}${r.stderr || ''}`);
  if (r.status !== 0) {
    // the cause, not the progress chatter ("go: downloading …") nor a continuation line
    const lines = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n');
    const cause =
      lines.filter((l) => l && !/^\s/.test(l) && !l.startsWith('go: downloading')).pop() ||
      (r.error && r.error.message) ||
      `exit status ${r.status}`;
    throw new BuildError(`${what}: \`go ${args.join(' ')}\` failed: ${cause} (full output: ${log})`);
  }
  return r.stdout;
}

function build(key, go) {
  const pin = PINS[key];
  const dir = resultDir(key);
  const what = `${key} ${pin.version}`;
  const staging = `${dir}.partial-${process.pid}`;
  const log = `${dir}.build.log`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(join(staging, 'gobin'), { recursive: true });
  fs.writeFileSync(log, `${what}, ${new Date().toISOString()}\n`);
  const started = Date.now();
  try {
    process.stderr.write(
      `bootfarm: building ${what} (${pin.module}) from the Go module proxy, once per machine: several minutes…\n`,
    );
    const packages = Object.values(pin.binaries).map((p) => `${pin.module}/${p}@${pin.version}`);
    runGo(
      go,
      ['install', '-trimpath', '-ldflags=-s -w', ...packages],
      goEnv({ GOBIN: join(staging, 'gobin') }),
      log,
      what,
    );
    fs.mkdirSync(join(staging, 'bin'));
    for (const [name, pkg] of Object.entries(pin.binaries))
      fs.renameSync(join(staging, 'gobin', basename(pkg)), join(staging, 'bin', name));
    fs.rmSync(join(staging, 'gobin'), { recursive: true });
    if (pin.keep.length) {
      process.stderr.write(`bootfarm: copying ${pin.keep.join(', ')} of ${what} from the module source…\n`);
      const info = JSON.parse(
        runGo(go, ['mod', 'download', '-json', `${pin.module}@${pin.version}`], goEnv(), log, what),
      );
      for (const part of pin.keep) {
        if (!fs.existsSync(join(info.Dir, part)))
          throw new BuildError(`${what}: the module source ${info.Dir} has no ${part}`);
        fs.cpSync(join(info.Dir, part), join(staging, part), { recursive: true });
      }
    }
    fs.writeFileSync(
      join(staging, 'build.json'),
      `${JSON.stringify({ module: pin.module, version: pin.version, seconds: Math.round((Date.now() - started) / 1000) })}\n`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Every pinned Go build present, building what is missing; returns the
 * result directories by key. Throws BuildError with a one-line message.
 */
function ensureTemporalServer() {
  const dirs = {};
  for (const key of Object.keys(PINS)) {
    const pin = PINS[key];
    const dir = resultDir(key);
    dirs[key] = dir;
    if (!missingParts(dir, pin).length) continue;
    if (process.env[pin.env]) throw new BuildError(`${pin.env}=${dir} lacks ${missingParts(dir, pin).join(', ')}`);
    const go = onPath('go');
    if (!go)
      throw new BuildError(
        `${key} ${pin.version} is not built and \`go\` is not on PATH: install Go (>= 1.21) or set ${pin.env} to a built copy`,
      );
    fs.mkdirSync(TOOLS, { recursive: true });
    withLock(`${dir}.lock`, `${key} ${pin.version}`, () => {
      if (missingParts(dir, pin).length) build(key, go);
    });
  }
  return dirs;
}

module.exports = { ensureTemporalServer, BuildError };

if (require.main === module) {
  try {
    const dirs = ensureTemporalServer();
    if (process.argv.includes('--print'))
      for (const [k, d] of Object.entries(dirs)) process.stdout.write(`${k} ${d}\n`);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    process.stderr.write(`bootfarm: ${e.message}\n`);
    process.exit(1);
  }
}
