/**
 * Route patterns as uWS understands them: literal segments, `:name` segments (one path segment
 * each, read back with `getParameter(i)` in pattern order) and an optional trailing `*`.
 * uWS does the matching for dispatch; this compiled form answers only the rare question
 * "which methods does this unmatched path have?" that 404 vs 405 needs.
 */
export interface RoutePattern {
  readonly source: string;
  readonly paramNames: readonly string[];
  matches(path: string): boolean;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

export function compileRoutePattern(source: string): RoutePattern {
  if (!source.startsWith('/')) throw new Error(`route pattern must start with "/": ${source}`);
  const segments = source.split('/').slice(1);
  const paramNames: string[] = [];
  const regexParts = segments.map((segment, i) => {
    if (segment === '*' && i === segments.length - 1) return '.*';
    const param = PARAM.exec(segment);
    if (param) {
      if (paramNames.includes(param[1]!)) throw new Error(`duplicate parameter :${param[1]} in ${source}`);
      paramNames.push(param[1]!);
      // uWS never matches a parameter to an empty segment (`/traces/` is not `/traces/:id`).
      return '[^/]+';
    }
    if (segment.includes(':') || segment.includes('*')) throw new Error(`invalid route segment "${segment}" in ${source}`);
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  const regex = new RegExp(`^/${regexParts.join('/')}$`);
  return { source, paramNames, matches: (path) => regex.test(path) };
}
