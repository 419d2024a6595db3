/**
 * The API's one route table: the router serves it (dashboard/server.ts) and
 * dashboard/openapi.ts documents it. A new endpoint is an `apiRoute({...})`
 * in a module of dashboard/api/ whose list is spread in here.
 */
import { z } from 'zod';
import { openApiDocument, type OpenApiDocument } from '../openapi';
import { apiRoute, reply, type ApiRoute } from './route';
import { readRoutes } from './read';
import { labRoutes } from './labApi';
import { operatorRoutes } from './operatorApi';
import { progressRoutes } from './progressApi';
import { tryRoutes } from './tryApi';

let document: OpenApiDocument | undefined;

/** The document of API_ROUTES, generated once. */
export function apiDocument(): OpenApiDocument {
  return (document ??= openApiDocument(API_ROUTES));
}

const documentRoute = apiRoute({
  method: 'GET',
  path: '/api/openapi.json',
  summary: 'This document',
  answers: {
    200: {
      description: 'OK',
      schema: z.object({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
    },
  },
  refusals: {},
  handle: async () => reply(200, apiDocument(), { 'cache-control': 'public, max-age=60' }),
});

export const API_ROUTES: readonly ApiRoute[] = [
  documentRoute,
  ...readRoutes,
  ...labRoutes,
  ...operatorRoutes,
  ...progressRoutes,
  ...tryRoutes,
];
