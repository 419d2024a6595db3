import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, parseConfig, applyEnvOverrides } from '../plumbing/loadConfig';
import type { BootfarmConfig } from '../domain/config';

export const DEFAULT_CONFIG_FILE = 'bootfarm.yaml';

/** The config file named (or BOOTFARM_CONFIG), or ./bootfarm.yaml, or the built-in defaults (no trees). */
export function resolveConfig(file = process.env.BOOTFARM_CONFIG): { config: BootfarmConfig; file?: string } {
  if (file) return { config: loadConfig(file), file: resolve(file) };
  if (existsSync(DEFAULT_CONFIG_FILE))
    return { config: loadConfig(DEFAULT_CONFIG_FILE), file: resolve(DEFAULT_CONFIG_FILE) };
  const config = applyEnvOverrides(parseConfig(''));
  return { config };
}
