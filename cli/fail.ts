/**
 * Commands report problems as one line and a non-zero exit, without a stack
 * trace (set BOOTFARM_DEBUG=1 to see it).
 */
import { UserError } from '../domain/userError';

export { UserError };
export function runAction<A extends unknown[]>(
  fn: (...args: A) => Promise<void | number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (e) {
      const err = e as Error;
      process.stderr.write(`bootfarm: ${err.message}\n`);
      if (process.env.BOOTFARM_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    }
  };
}
