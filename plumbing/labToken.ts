import { createHash, randomBytes } from 'node:crypto';

/**
 * Lab tokens: shown once to the lab admin, stored only as their SHA-256
 * (hex) in labs.token_hash. A token is random, so a plain hash suffices.
 */
export function newLabToken(): string {
  return `bfl_${randomBytes(32).toString('base64url')}`;
}

export function hashLabToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
