import { badRequest, type Ctx } from './http';
import type { Deps } from './deps';
import type { ApiRoute } from './api/route';

export type Method = 'GET' | 'POST';
export type Handler = (ctx: Ctx) => Promise<void>;

export interface Route {
  method: Method;
  /** an OpenAPI-style template: `/api/builds/{id}`; `{key+}` takes the rest of the path */
  template: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: Method[] } | null;

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.template
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}$`), names };
}

/** Method + path template → handler; the templates double as the OpenAPI paths. */
export class Router {
  private readonly table: CompiledRoute[] = [];

  get(template: string, handler: Handler): this {
    return this.add('GET', template, handler);
  }

  post(template: string, handler: Handler): this {
    return this.add('POST', template, handler);
  }

  /** An API route of the table (dashboard/api/routes.ts), which its OpenAPI document is made from. */
  api(route: ApiRoute, deps: Deps): this {
    this.table.push(compile({ method: route.method, template: route.path, handler: (ctx) => route.serve(ctx, deps) }));
    return this;
  }

  /** A page or file route; /api/ routes are declared in dashboard/api/routes.ts, so that they are documented. */
  add(method: Method, template: string, handler: Handler): this {
    if (template.startsWith('/api/'))
      throw new Error(`${method} ${template}: API routes are declared with apiRoute() in dashboard/api/routes.ts`);
    this.table.push(compile({ method, template, handler }));
    return this;
  }

  routes(): Route[] {
    return this.table.map(({ method, template, handler }) => ({ method, template, handler }));
  }

  match(method: string, pathname: string): Match {
    const allowed: Method[] = [];
    for (const route of this.table) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1]);
        } catch {
          throw badRequest(name, `malformed percent-encoding in ${name}`);
        }
      });
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}
