/**
 * The OpenAPI 3.1 document of /api, generated from the route table
 * (dashboard/api/routes.ts): paths from the routes, parameters and request
 * bodies from the zod schemas they validate with, responses from the zod
 * schemas their answers are typed by. A zod schema with a `.meta({ id })`
 * becomes a component, referenced wherever it is used.
 */
import { z } from 'zod';
import { errorSchema, SERVER_REFUSALS, type ApiRoute, type OctetStream } from './api/route';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Json;
  paths: Record<string, Record<string, Json>>;
  components: { securitySchemes: Record<string, Json>; schemas: Record<string, Json> };
}

/** Descriptions of the parameters many routes share, where their schema gives none. */
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  tree: 'tree name',
  branch: 'branch name',
  sha: 'commit sha or a prefix of at least 7 hex digits',
  config: 'build config name',
  arch: 'architecture',
  platform: 'platform name',
  lab: 'lab name',
  status: 'status',
  result: 'result of a finished revision',
  state: 'regression state',
  kind: 'kind',
  active: 'true: new and still-failing regressions; false: fixed ones',
  id: 'row id',
};

const COMPONENTS = '#/components/schemas/';

/** `#/$defs/X` → `#/components/schemas/X`, everywhere in a schema. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? v.replace(/^#\/\$defs\//, COMPONENTS) : relink(v),
    ]),
  );
}

/** The JSON schemas of one document: inline ones, and the components the `id`-named zod schemas become. */
class Schemas {
  readonly components: Record<string, Json> = {};

  private component(id: string, schema: Json): Json {
    const { id: _, ...body } = schema;
    const text = JSON.stringify(body);
    const known = this.components[id];
    if (known && JSON.stringify(known) !== text) throw new Error(`two different schemas are both named ${id}`);
    this.components[id] = body;
    return { $ref: COMPONENTS + id };
  }

  /**
   * Requests and answers alike as zod's input side: what a request may carry,
   * and for an answer a `z.object` stays open and only a `z.strictObject`
   * closes (the output side would close every object zod strips).
   */
  of(schema: z.ZodType): Json {
    const json = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
      // A pattern constrains strings only; a parameter documented as the integer it carries keeps none.
      override: ({ jsonSchema }) => {
        if (jsonSchema.type === 'integer') delete jsonSchema.pattern;
      },
    }) as Json;
    const { $schema: _, $defs, ...root } = json;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, Json>))
      this.component(id, relink(def) as Json);
    const linked = relink(root) as Json;
    return typeof linked.id === 'string' ? this.component(linked.id, linked) : linked;
  }
}

function parameters(schema: z.ZodType, where: 'path' | 'query', schemas: Schemas): Json[] {
  const json = schemas.of(schema);
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, { description, examples, ...s }]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    description: description ?? PARAMETER_DESCRIPTIONS[name] ?? name,
    ...(Array.isArray(examples) ? { example: examples[0] } : {}),
    schema: s,
  }));
}

function requestBody(body: z.ZodType | OctetStream, schemas: Schemas): Json {
  if ('kind' in body && body.kind === 'octet-stream')
    return {
      required: true,
      description: body.description,
      content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    };
  return { required: true, content: { 'application/json': { schema: schemas.of(body as z.ZodType) } } };
}

function operation(route: ApiRoute, schemas: Schemas): Json {
  const json = (schema: Json) => ({ 'application/json': { schema } });
  const params = [...parameters(route.params, 'path', schemas), ...parameters(route.query, 'query', schemas)];
  const refusals = { ...SERVER_REFUSALS, ...route.guard?.refusals, ...route.refusals };
  const error = schemas.of(errorSchema);
  return {
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.guard ? { security: [{ [route.guard.scheme]: [] }] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body ? { requestBody: requestBody(route.body, schemas) } : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(route.answers).map(([status, a]) => [
          status,
          { description: a.description, content: json(schemas.of(a.schema)) },
        ]),
      ),
      ...Object.fromEntries(
        Object.entries(refusals).map(([status, description]) => [status, { description, content: json(error) }]),
      ),
    },
  };
}

/** The document of a route table. */
export function openApiDocument(routes: readonly ApiRoute[]): OpenApiDocument {
  const schemas = new Schemas();
  const paths: OpenApiDocument['paths'] = {};
  const securitySchemes: Record<string, Json> = {};
  for (const route of routes) {
    const ops = (paths[route.path] ??= {});
    const method = route.method.toLowerCase();
    if (ops[method]) throw new Error(`${route.method} ${route.path} is declared twice`);
    ops[method] = operation(route, schemas);
    if (route.guard)
      securitySchemes[route.guard.scheme] = { type: 'http', scheme: 'bearer', description: route.guard.description };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bootfarm API',
      version: '1.0.0',
      description:
        'Builds, boots, regressions and bisections of monitored kernel trees. Lists are newest first and paginated by an opaque cursor. ' +
        'Errors are JSON `{error, field}`. Lab endpoints take a lab token, operator endpoints the admin token, `bootfarm try` endpoints a developer token, all as `Authorization: Bearer <token>`.',
    },
    paths,
    components: { securitySchemes, schemas: schemas.components },
  };
}

/** `METHOD template` of every documented operation. */
export function documentedOperations(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
}
