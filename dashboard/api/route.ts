/**
 * An API route declared once: its path, the zod schemas of what it accepts
 * (path, query, body) and of what it answers, who may call it, and its
 * handler. The router serves the table of them (dashboard/api/routes.ts)
 * and dashboard/openapi.ts renders the same table as the OpenAPI document,
 * so no route is served undocumented or documented unserved, and what is
 * documented is what is validated and answered.
 */
import { z } from 'zod';
import type { Deps } from '../deps';
import { readJson, readOctets, sendJson, type Ctx } from '../http';
import { parseBody, parseParams, parseQuery } from '../validate';

export type Method = 'GET' | 'POST';

/** status → when the route refuses with it (the body is an `Error`) */
export type Refusals = Readonly<Record<number, string>>;

/** What a route answers with a status: a description and the zod schema of the JSON body. */
export interface Answer<S extends z.ZodType = z.ZodType> {
  description: string;
  schema: S;
}
export type Answers = Readonly<Record<number, Answer>>;

/** The JSON body of every refusal. */
export const errorSchema = z
  .strictObject({
    error: z.string().describe('what is wrong, in a sentence'),
    field: z.string().optional().describe('the parameter, body field or header at fault'),
  })
  .meta({ id: 'Error' });

/**
 * A credential check that runs before the route reads anything else; what it
 * returns (the caller, e.g. the lab a token belongs to) is given to the handler.
 */
export interface Guard<A = unknown> {
  /** its name among the document's security schemes */
  scheme: string;
  description: string;
  refusals: Refusals;
  check(ctx: Ctx, deps: Deps): Promise<A>;
}

/**
 * A request body that is a file itself, not JSON: `application/octet-stream`
 * of at most `limit(deps).bytes` (a deployment's setting), refused with 413
 * as it streams in beyond that, nothing kept.
 */
export interface OctetStream {
  readonly kind: 'octet-stream';
  readonly description: string;
  limit(deps: Deps): { bytes: number; setting: string };
}

export const octetStream = (description: string, limit: OctetStream['limit']): OctetStream => ({
  kind: 'octet-stream',
  description,
  limit,
});

const isOctetStream = (body: z.ZodType | OctetStream | undefined): body is OctetStream =>
  !!body && 'kind' in body && body.kind === 'octet-stream';

/** What a route's handler reads as its body: the bytes of an octet stream, the checked value of a JSON schema. */
type BodyOf<B> = B extends OctetStream ? Buffer : B extends z.ZodType ? z.output<B> : never;

export interface ApiRequest<A, P, Q, B> {
  ctx: Ctx;
  caller: A;
  params: P;
  query: Q;
  /**
   * the body: JSON checked against the route's body schema, or the bytes of
   * its octet stream; read when asked (a route may judge other things first)
   */
  body(): Promise<B>;
}

type Reply<R extends Answers> = {
  [S in keyof R & number]: { status: S; body: z.input<R[S]['schema']>; headers?: Record<string, string> };
}[keyof R & number];

const none = z.strictObject({});

interface RouteSpec<A, P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | OctetStream, R extends Answers> {
  method: Method;
  path: `/api/${string}`;
  summary: string;
  description?: string;
  guard?: Guard<A>;
  /** the `{name}` segments of the path; default none */
  params?: P;
  /** default: no parameter is accepted */
  query?: Q;
  /** a JSON request body (its zod schema), or a file (`octetStream(...)`) */
  body?: B;
  answers: R;
  refusals: Refusals;
  handle(req: ApiRequest<A, z.output<P>, z.output<Q>, BodyOf<B>>, deps: Deps): Promise<Reply<R>>;
}

/** A declared route, its types erased: what the router serves and the generator documents. */
export interface ApiRoute {
  readonly method: Method;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly guard?: Guard;
  readonly params: z.ZodType;
  readonly query: z.ZodType;
  readonly body?: z.ZodType | OctetStream;
  readonly answers: Answers;
  readonly refusals: Refusals;
  serve(ctx: Ctx, deps: Deps): Promise<void>;
}

/** The names of a path template's `{name}` segments. */
export function pathNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

/**
 * Declare a route. The handler's request is typed by the schemas and its
 * reply by the answers it declares; the guard runs first, then the query and
 * the path are checked, the body when the handler reads it.
 */
export function apiRoute<
  A = undefined,
  P extends z.ZodType = typeof none,
  Q extends z.ZodType = typeof none,
  B extends z.ZodType | OctetStream = z.ZodNever,
  R extends Answers = Answers,
>(spec: RouteSpec<A, P, Q, B, R>): ApiRoute {
  const params = spec.params ?? none;
  const query = spec.query ?? none;
  const declared = params instanceof z.ZodObject ? Object.keys(params.shape).sort() : [];
  if (pathNames(spec.path).sort().join() !== declared.join())
    throw new Error(`${spec.method} ${spec.path}: its params schema declares [${declared}], the path has others`);
  const { handle, ...doc } = spec;
  return {
    ...doc,
    params,
    query,
    async serve(ctx, deps) {
      const caller = (spec.guard ? await spec.guard.check(ctx, deps) : undefined) as A;
      const q = parseQuery(query, ctx.query) as z.output<Q>;
      const p = parseParams(params, ctx.params) as z.output<P>;
      const declared = spec.body;
      const body = async () =>
        (isOctetStream(declared)
          ? await readOctets(ctx.req, declared.limit(deps))
          : parseBody(declared ?? z.never(), await readJson(ctx.req))) as BodyOf<B>;
      const reply = await handle({ ctx, caller, params: p, query: q, body }, deps);
      if (!(reply.status in spec.answers))
        throw new Error(`${spec.method} ${spec.path} answered ${reply.status}, which it does not declare`);
      sendJson(ctx.res, reply.status, reply.body, reply.headers);
    },
  };
}

/** A handler's answer (a function, so that the status stays the literal the route declares). */
export function reply<S extends number, T>(status: S, body: T, headers?: Record<string, string>) {
  return { status, body, ...(headers ? { headers } : {}) };
}

/** `{items: [...]}` of one schema. */
export const itemsOf = <S extends z.ZodType>(item: S) => z.strictObject({ items: z.array(item) });

/** What the server refuses before any route is chosen (plumbing/httpGuard.ts): every operation may answer it. */
export const SERVER_REFUSALS: Refusals = { 414: 'the request target (path and query) is too long' };

export const READ_REFUSALS: Refusals = { 400: 'invalid parameter; `field` names it' };
export const ITEM_REFUSALS: Refusals = { ...READ_REFUSALS, 404: 'no such row' };
export const BODY_REFUSALS: Refusals = {
  400: 'invalid body; `field` names the offending field',
  413: 'body too large',
  415: 'the body is not application/json',
};
