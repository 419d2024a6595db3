import type { z } from 'zod';
import { parseQuery } from '../validate';

/** A page's filters: like the API's, but the empty fields a GET form submits count as absent. */
export function pageQuery<S extends z.ZodType>(schema: S, query: URLSearchParams): z.output<S> {
  const kept = new URLSearchParams();
  for (const [k, v] of query) if (v !== '') kept.append(k, v);
  return parseQuery(schema, kept);
}

/** Filters as plain strings for links and forms (the cursor and limit left out). */
export function filterValues(f: Record<string, unknown>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(f)) if (k !== 'cursor' && k !== 'limit' && v !== undefined) out[k] = String(v);
  return out;
}
