import { UserError } from '../domain/userError';

/** A port given on the command line, or one line naming the option. */
export function portNumber(value: string, option: string, opts: { anyFree?: boolean } = {}): number {
  const n = Number(value);
  const min = opts.anyFree ? 0 : 1;
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < min || n > 65535)
    throw new UserError(
      `${option}: expected a port number ${min}-65535${opts.anyFree ? ' (0: any free port)' : ''}, got ${JSON.stringify(value)}`,
    );
  return n;
}
