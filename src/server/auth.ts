/**
 * Optional bearer-token auth (SPEC §6). Tokens come from a JSON file
 * `{"<token>": {"principal": "...", "scopes": ["telemetry.read", "telemetry.write"]}}`.
 * Every route needs a scope except the public ones (health, the UI's static files).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { forbidden, unauthorized } from '../telemetry/errors.ts';

export const SCOPES = ['telemetry.read', 'telemetry.write'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Grant {
  principal: string;
  scopes: Scope[];
}

export class AuthConfigError extends Error {}

/** Parses and checks the token file; a malformed file is an error at startup, never a silent open door. */
export function loadTokenFile(path: string): Map<string, Grant> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AuthConfigError(`auth tokens file ${path}: ${(e as Error).message}`);
  }
  return parseTokens(raw, path);
}

export function parseTokens(raw: unknown, source = 'auth tokens'): Map<string, Grant> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AuthConfigError(`${source}: expected an object of token -> {principal, scopes}`);
  const tokens = new Map<string, Grant>();
  for (const [token, grant] of Object.entries(raw)) {
    const g = grant as Partial<Grant> | null;
    if (token.length === 0) throw new AuthConfigError(`${source}: empty token`);
    if (!g || typeof g.principal !== 'string' || !Array.isArray(g.scopes)) {
      throw new AuthConfigError(`${source}: token entry for principal ${JSON.stringify(g?.principal)} needs "principal" (string) and "scopes" (array)`);
    }
    for (const s of g.scopes) {
      if (!SCOPES.includes(s)) throw new AuthConfigError(`${source}: unknown scope ${JSON.stringify(s)} for ${g.principal}, expected one of ${SCOPES.join(', ')}`);
    }
    tokens.set(token, { principal: g.principal, scopes: [...g.scopes] });
  }
  return tokens;
}

/** Paths anyone may read: liveness and the UI's static files (they hold no data). */
const PUBLIC = [/^\/health$/, /^\/v1\/health$/, /^\/$/, /^\/ui(\/.*)?$/, /^\/favicon\.ico$/];

/** Routes that change data need telemetry.write; everything else reads. */
const WRITE = [
  /^\/v1\/telemetry\/events$/, /^\/alpha\/telemetry\/log-event$/, /^\/v1\/telemetry\/spans\/export$/,
  /^\/v1\/telemetry\/stream$/, /^\/v1\/traces$/, /^\/v1\/metrics$/,
];

/** The scope a request needs, or null for a public route. */
export function requiredScope(pattern: string): Scope | null {
  if (PUBLIC.some((re) => re.test(pattern))) return null;
  return WRITE.some((re) => re.test(pattern)) ? 'telemetry.write' : 'telemetry.read';
}

export type Authorizer = (headers: Readonly<Record<string, string>>, pattern: string) => Grant | null;

/**
 * Checks a request's bearer token against the route's scope; throws 401/403 ApiErrors.
 * Tokens are compared as SHA-256 digests with timingSafeEqual against every known
 * token, so the time taken does not depend on how much of a token matched.
 */
export function createAuthorizer(tokens: Map<string, Grant>): Authorizer {
  const known = [...tokens].map(([token, grant]) => ({ digest: sha256(token), grant }));
  return (headers, pattern) => {
    const scope = requiredScope(pattern);
    if (scope === null) return null;
    const header = headers['authorization'] ?? '';
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('Missing or invalid Authorization header: expected "Bearer <token>"');
    const digest = sha256(match[1]);
    let grant: Grant | null = null;
    for (const k of known) if (timingSafeEqual(k.digest, digest)) grant = k.grant;
    if (!grant) throw unauthorized('Invalid authentication token');
    if (!grant.scopes.includes(scope)) throw forbidden(`Access denied: ${grant.principal} lacks scope ${scope}`);
    return grant;
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
