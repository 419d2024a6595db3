/**
 * Field schemas the config sections share (domain/config.ts, domain/testPlans.ts).
 */
import { z } from 'zod';
import { NAME_PATTERN } from './names';
import { parseDuration } from './duration';
import { ARCHS } from './archs';

export const nameField = z.string().regex(NAME_PATTERN, `a name matching ${NAME_PATTERN.source}`);

/** "90s", "5m", "1h" or seconds, to milliseconds. */
export const durationField = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

export const archField = z.enum(Object.keys(ARCHS) as [string, ...string[]]);
