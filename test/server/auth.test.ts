import { describe, expect, it } from 'vitest';
import { AuthConfigError, createAuthorizer, parseTokens, requiredScope } from '../../src/server/auth.ts';

const tokens = parseTokens({
  'reader-token': { principal: 'grafana', scopes: ['telemetry.read'] },
  'writer-token': { principal: 'agent', scopes: ['telemetry.write'] },
});
const authorize = createAuthorizer(tokens);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function status(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (e) {
    return (e as { status: number }).status;
  }
}

describe('auth', () => {
  it('maps routes to scopes: ingest and export write, queries read, health public', () => {
    expect(requiredScope('/v1/telemetry/events')).toBe('telemetry.write');
    expect(requiredScope('/v1/telemetry/spans/export')).toBe('telemetry.write');
    expect(requiredScope('/v1/traces')).toBe('telemetry.write');
    expect(requiredScope('/v1/telemetry/traces')).toBe('telemetry.read');
    expect(requiredScope('/api/v1/query_range')).toBe('telemetry.read');
    expect(requiredScope('/metrics')).toBe('telemetry.read');
    expect(requiredScope('/health')).toBeNull();
  });

  it('401 without a token or with an unknown one, 403 without the scope, through with it', () => {
    expect(status(() => authorize({}, '/v1/telemetry/traces'))).toBe(401);
    expect(status(() => authorize({ authorization: 'Basic abc' }, '/v1/telemetry/traces'))).toBe(401);
    expect(status(() => authorize(bearer('nope'), '/v1/telemetry/traces'))).toBe(401);
    expect(status(() => authorize(bearer('writer-token'), '/v1/telemetry/traces'))).toBe(403);
    expect(status(() => authorize(bearer('reader-token'), '/v1/telemetry/events'))).toBe(403);
    expect(authorize(bearer('reader-token'), '/v1/telemetry/traces')).toEqual({ principal: 'grafana', scopes: ['telemetry.read'] });
    expect(authorize({}, '/health')).toBeNull();
  });

  it('a token that is a prefix of a real one is refused', () => {
    expect(status(() => authorize(bearer('reader-toke'), '/v1/telemetry/traces'))).toBe(401);
    expect(status(() => authorize(bearer('reader-token2'), '/v1/telemetry/traces'))).toBe(401);
  });

  it('rejects malformed token files with a message naming the problem', () => {
    expect(() => parseTokens([])).toThrow(AuthConfigError);
    expect(() => parseTokens({ t: { principal: 'p' } })).toThrow(/scopes/);
    expect(() => parseTokens({ t: { principal: 'p', scopes: ['admin'] } })).toThrow(/unknown scope "admin"/);
  });
});
