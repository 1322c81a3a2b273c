import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import LlamaStackClient, { AuthenticationError, PermissionDeniedError } from 'llama-stack-client';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;

beforeAll(async () => {
  const file = join(tmpdir(), `strata-tokens-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({
    'rw-token': { principal: 'agent', scopes: ['telemetry.read', 'telemetry.write'] },
    'ro-token': { principal: 'dashboard', scopes: ['telemetry.read'] },
  }));
  server = await startTestServer(['--auth-tokens', file]);
});
afterAll(async () => server?.cleanup());

const event = { type: 'structured_log', trace_id: 'a1', span_id: 'b1', timestamp: new Date().toISOString(), payload: { type: 'span_start', name: 'x' } } as const;

describe('bearer-token auth over the real server', () => {
  it('health stays public; everything else needs a token', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const res = await fetch(`${server.url}/v1/telemetry/traces`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.detail).toMatch(/Authorization/);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  });

  it('the SDK works with a token that has the scopes, and gets typed errors otherwise', async () => {
    const rw = new LlamaStackClient({ baseURL: server.url, apiKey: 'rw-token', maxRetries: 0 });
    await rw.telemetry.logEvent({ event: event as never, ttl_seconds: 3600 });
    expect((await rw.telemetry.getTrace('a1')).root_span_id).toBe('b1');

    const ro = new LlamaStackClient({ baseURL: server.url, apiKey: 'ro-token', maxRetries: 0 });
    expect((await ro.telemetry.getTrace('a1')).trace_id).toBe('a1');
    await expect(ro.telemetry.logEvent({ event: event as never, ttl_seconds: 3600 })).rejects.toThrow(PermissionDeniedError);

    const bad = new LlamaStackClient({ baseURL: server.url, apiKey: 'wrong', maxRetries: 0 });
    await expect(bad.telemetry.getTrace('a1')).rejects.toThrow(AuthenticationError);
  });
});
