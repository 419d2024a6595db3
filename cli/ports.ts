import { UserError } from '../domain/userError';

/** A port given on the command line, or one line naming the option. */
export function portNumber(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > 65535)
    throw new UserError(`${option}: expected a port number 1-65535, got ${JSON.stringify(value)}`);
  return n;
}
