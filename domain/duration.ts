import { z } from 'zod';

/** "90s", "5m", "1h", "250ms", "30d" or a number of seconds, to milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) throw new Error(`invalid duration ${JSON.stringify(value)}: expected e.g. 90s, 5m, 1h, 30d`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(n * unit);
}

/** A config duration (parseDuration's forms) as milliseconds. */
export const durationSchema = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
