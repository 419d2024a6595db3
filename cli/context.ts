import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, parseConfig, applyEnvOverrides } from '../plumbing/loadConfig';
import type { BootfarmConfig } from '../domain/config';
import {
  CREDENTIALS,
  SERVICE_SECRETS,
  describeUnwanted,
  unwantedSecrets,
  type ServiceKind,
} from '../domain/serviceSecrets';
import { UserError } from '../domain/userError';

export const DEFAULT_CONFIG_FILE = 'bootfarm.yaml';

function configFile(file = process.env.BOOTFARM_CONFIG): string | undefined {
  if (file) return file;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/** The config file named (or BOOTFARM_CONFIG), or ./bootfarm.yaml, or the built-in defaults (no trees). */
export function resolveConfig(file?: string): { config: BootfarmConfig; file?: string } {
  const found = configFile(file);
  if (found) return { config: loadConfig(found), file: resolve(found) };
  return { config: applyEnvOverrides(parseConfig('')) };
}

/**
 * The config of a deployment's service (`bootfarm worker …`, `bootfarm
 * dashboard`, `bootfarm db migrate`): it must hold what its kind requires
 * (the results database for orchestrators, the dashboard and migrations), and
 * a long-running service refuses to start when its environment or config
 * file holds a secret its kind must not hold (domain/serviceSecrets.ts) —
 * a builder given the admin token would hand it to every tree it builds.
 * The migration is an operator's one-shot command, run from wherever the
 * database URL is; it reads that and nothing else.
 */
export function serviceConfig(
  kind: ServiceKind,
  file?: string,
  env: NodeJS.ProcessEnv = process.env,
): { config: BootfarmConfig; file?: string } {
  const found = configFile(file);
  if (kind !== 'migrate') {
    const fileOnly = found ? loadConfig(found, {}) : undefined;
    const unwanted = unwantedSecrets(kind, env, fileOnly);
    if (unwanted.length) throw new UserError(describeUnwanted(kind, unwanted, found));
  }
  const resolved = resolveConfig(found);
  for (const credential of SERVICE_SECRETS[kind].requires) {
    if (credential === 'resultsDatabase' && !resolved.config.database.url) {
      const [envVar] = CREDENTIALS.resultsDatabase.env;
      throw new UserError(
        `${kind === 'migrate' ? 'bootfarm db migrate' : `the ${kind}`} needs the results database: set ${envVar} (or database.url in its config file)`,
      );
    }
  }
  return resolved;
}
