import { z } from 'zod';
import { BRANCH_PATTERN, NAME_PATTERN, SHA_PATTERN } from '../domain/names';
import { badRequest } from './http';

export const nameParam = z.string().regex(NAME_PATTERN, `a name matching ${NAME_PATTERN.source}`);
export const branchParam = z.string().regex(BRANCH_PATTERN, 'a git branch name');
export const shaParam = z.string().regex(SHA_PATTERN, 'a commit sha (7 to 40 lowercase hex digits)');

/**
 * A row id in a path or query: a positive integer a JavaScript number holds
 * exactly. Documented as the integer it is, though it arrives as text.
 */
export const idParam = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, 'must be a positive integer')
  .refine((v) => Number.isSafeInteger(Number(v)), 'is too large')
  .transform(Number)
  .meta({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** A row id from the path or a query: a positive integer that fits a bigint, else 400 naming the field. */
export function parseId(value: string | undefined, field = 'id'): number {
  const r = idParam.safeParse(value);
  if (!r.success) throw badRequest(field, `${field} ${r.error.issues[0].message}`);
  return r.data;
}

/** A query parameter that is an integer from `min` to `max` (the text of one, strictly: no sign, no exponent). */
export function intParam(min: number, max: number, fallback: number, description: string) {
  const digits = String(max).length;
  return z
    .string()
    .regex(new RegExp(`^[0-9]{1,${digits}}$`), `an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `at least ${min}`).max(max, `at most ${max}`))
    .meta({ type: 'integer', minimum: min, maximum: max, default: fallback, description });
}

export const limitParam = intParam(1, 200, 50, 'page size (1 to 200, default 50)');

export const cursorParam = z.string().max(200).meta({ description: 'opaque: the nextCursor of the previous page' });

/** The first problem zod found, as the field it concerns and a sentence. */
export function describeIssue(error: z.ZodError, prefix?: string): { field: string; message: string } {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return { field: prefix ? `${prefix}.${key}` : key, message: `unknown field ${JSON.stringify(key)}` };
  }
  const path = issue.path.map(String).join('.');
  const field = [prefix, path].filter(Boolean).join('.') || prefix || 'body';
  return { field, message: `${field}: ${issue.message}` };
}

/**
 * Query parameters against a strict schema: an unknown parameter, a
 * repeated one or a malformed value is a 400 naming it.
 */
export function parseQuery<S extends z.ZodType>(schema: S, params: URLSearchParams): z.output<S> {
  const obj: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in obj) throw badRequest(key, `${key} is given more than once`);
    obj[key] = value;
  }
  const r = schema.safeParse(obj);
  if (!r.success) {
    const { field, message } = describeIssue(r.error);
    throw badRequest(field, message);
  }
  return r.data;
}

/** Path parameters (already percent-decoded by the router) against their schema: a malformed one is a 400 naming it. */
export function parseParams<S extends z.ZodType>(schema: S, params: Record<string, string>): z.output<S> {
  const r = schema.safeParse(params);
  if (!r.success) {
    const { field, message } = describeIssue(r.error);
    throw badRequest(field, message);
  }
  return r.data;
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body', 'the body must be a JSON object');
  const r = schema.safeParse(body);
  if (!r.success) {
    const { field, message } = describeIssue(r.error);
    throw badRequest(field, message);
  }
  return r.data;
}
