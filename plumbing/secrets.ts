/**
 * Secrets Bootfarm makes itself on first start when none is given: the
 * dashboard's admin token and the embedded PostgreSQL's password. Each lives
 * in a file of the data directory, readable by its owner only, and is read
 * back on later starts and by the CLI.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const adminTokenFile = (dataDir: string) => join(dataDir, 'admin-token');
/** beside PostgreSQL's data directory `<dataDir>/postgres` */
export const dbPasswordFile = (pgDataDir: string) => `${pgDataDir}.password`;

/** The secret stored at `file`, if any. */
export function readSecret(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const value = readFileSync(file, 'utf8').trim();
  return value || undefined;
}

/** The secret stored at `file`, made (32 random bytes, base64url, mode 0600) when there is none. */
export function generatedSecret(file: string): string {
  const existing = readSecret(file);
  if (existing) return existing;
  const value = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'w' });
  return value;
}
