import type { RouteInfo } from './app.ts';
import { STRATA_VERSION } from './version.ts';

/**
 * The OpenAPI document, derived from the route table so it cannot list a route that is not
 * served. Request and response schemas are not attached yet: only paths, methods and path
 * parameters.
 */
export function openApiDocument(routes: readonly RouteInfo[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const { method, pattern } of routes) {
    const path = pattern.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
    const parameters = [...pattern.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    (paths[path] ??= {})[method.toLowerCase()] = {
      ...(parameters.length > 0 ? { parameters } : {}),
      responses: { '200': { description: 'OK' } },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'strata', version: STRATA_VERSION },
    paths,
  };
}
