import { z } from 'zod';
import { BRANCH_PATTERN, NAME_PATTERN, SHA_PATTERN } from '../domain/names';
import { badRequest } from './http';

export const nameParam = z.string().regex(NAME_PATTERN, `a name matching ${NAME_PATTERN.source}`);
export const branchParam = z.string().regex(BRANCH_PATTERN, 'a git branch name');
export const shaParam = z.string().regex(SHA_PATTERN, 'a commit sha (7 to 40 lowercase hex digits)');

const MAX_ID = 2n ** 63n - 1n;

/** A row id from the path or a query: a positive integer that fits a bigint, else 400 naming the field. */
export function parseId(value: string | undefined, field = 'id'): number {
  if (value === undefined || !/^[1-9][0-9]{0,18}$/.test(value) || BigInt(value) > MAX_ID)
    throw badRequest(field, `${field} must be a positive integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw badRequest(field, `${field} is too large`);
  return n;
}

export const limitParam = z
  .string()
  .regex(/^[0-9]{1,4}$/, 'an integer from 1 to 200')
  .transform(Number)
  .pipe(z.number().int().min(1, 'at least 1').max(200, 'at most 200'));

export const cursorParam = z.string().max(200);

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
