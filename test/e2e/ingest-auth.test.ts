/** Ingest routes under bearer-token auth: the WebSocket upgrade and OTLP need telemetry.write. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;

beforeAll(async () => {
  const file = join(tmpdir(), `strata-ingest-tokens-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({
    writer: { principal: 'sender', scopes: ['telemetry.write'] },
    reader: { principal: 'dashboard', scopes: ['telemetry.read'] },
  }));
  server = await startTestServer(['--auth-tokens', file]);
});
afterAll(async () => server?.cleanup());

/** The HTTP status a WebSocket upgrade gets: 101 when it opens. */
function upgradeStatus(token?: string): Promise<{ status: number; ws?: WebSocket }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/telemetry/stream`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', reject);
  });
}

describe('ingest auth', () => {
  it('checks the token at the WebSocket upgrade: 401 without, 403 without the write scope, open with it', async () => {
    expect((await upgradeStatus()).status).toBe(401);
    expect((await upgradeStatus('reader')).status).toBe(403);
    const { status, ws } = await upgradeStatus('writer');
    expect(status).toBe(101);
    const ack = new Promise((resolve) => ws!.once('message', (data) => resolve(JSON.parse(String(data)))));
    ws!.send(pack({ event: { type: 'metric', trace_id: 't', span_id: 's', timestamp: Date.now() - 1000, metric: 'auth_m', value: 1, unit: '' } }));
    expect(await ack).toEqual({ ok: 1 });
    ws!.close();
  });

  it('answers OTLP without a token with an OTLP status body', async () => {
    const response = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 16 });
  });
});
