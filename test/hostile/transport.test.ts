/**
 * Hostile transports, over raw sockets: bodies over the limit are refused (413) before they
 * are buffered whole — an announced length at once, a chunked body as soon as it passes the
 * limit — and slow-loris bodies are cut off (408) after the body timeout. The server stays
 * up and other clients are served meanwhile.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { expectHealthy, json, rawRequest, send, serverWithBaseline } from './helpers.ts';

const LIMIT = 64 * 1024;
const BODY_TIMEOUT_MS = 400;

const suite = serverWithBaseline(['--body-limit-bytes', String(LIMIT), '--body-timeout-ms', String(BODY_TIMEOUT_MS)]);

const head = (path: string, headers: Record<string, string>) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

describe('bodies over the limit: 413 before the body is read', () => {
  for (const path of ['/v1/telemetry/events', '/v1/telemetry/traces', '/v1/traces', '/api/v1/query']) {
    it(`${path}: an announced Content-Length over the limit is refused at once, no body sent`, async () => {
      const res = await rawRequest(suite.server.port, head(path, { 'content-type': 'application/json', 'content-length': String(512 * 1024 * 1024) }), [], 0, 5000);
      expect(res.status).toBe(413);
      expect(res.bytesSent).toBe(0);
      expect(res.body).toMatch(/exceeds the limit of 65536 bytes/);
      expect(res.head).toMatch(/connection: close/);
      expect(res.ms).toBeLessThan(5000);
    });
  }

  it('a chunked body is refused as soon as it passes the limit, long before it ends', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const chunks = Array.from({ length: 10_000 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const res = await rawRequest(suite.server.port, head('/v1/telemetry/events', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), chunks, 2, 15_000);
    expect(res.status).toBe(413);
    expect(res.body).toMatch(/exceeds the limit of 65536 bytes/);
    // It stopped reading within a few chunks past the limit: nowhere near the 160 MB announced.
    expect(res.bytesSent).toBeLessThan(40 * LIMIT);
  });

  it('a body longer than its Content-Length is a 400', async () => {
    const res = await rawRequest(suite.server.port, head('/v1/telemetry/traces', { 'content-type': 'application/json', 'content-length': '2' }), ['{}{}{}'], 0, 3000);
    // uWS treats the extra bytes as the next request (pipelining); the first one is answered.
    expect(res.status).toBeLessThan(500);
  });

  it('a Content-Length uWS cannot parse (malformed, ≥ 1 GiB): the connection is dropped unanswered, nothing read', async () => {
    for (const length of ['12abc', '-5', String(2 ** 32), '99999999999999999999999']) {
      const outcome = await rawRequest(suite.server.port, head('/v1/telemetry/events', { 'content-type': 'application/json', 'content-length': length }), ['{}'], 0, 3000)
        .then((r) => `answered ${r.status}`, (e: Error) => e.message);
      // uWS's HTTP parser refuses these before strata sees the request; either way nothing is buffered.
      expect(outcome, length).toMatch(/^(answered 4\d\d|no HTTP answer)/);
    }
    await expectHealthy(suite.server.url);
  });

  it('a WebSocket message over the limit closes that stream only, the server goes on', async () => {
    const ws = new WebSocket(`${suite.server.url.replace('http', 'ws')}/v1/telemetry/stream`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(Buffer.alloc(LIMIT * 2, 0x90), { binary: true });
    // uWS drops the connection (1006 as the client sees it) or sends 1009 (message too big).
    expect([1006, 1009]).toContain(await closed);
    await expectHealthy(suite.server.url);
  });

  it('the gzip bomb on OTLP: a body that inflates past the limit is a 413', async () => {
    const { gzipSync } = await import('node:zlib');
    const bomb = gzipSync(Buffer.from(`{"resourceSpans":[],"pad":"${'a'.repeat(10 * 1024 * 1024)}"}`));
    expect(bomb.length).toBeLessThan(LIMIT);
    const res = await send(suite.server.url, { method: 'POST', path: '/v1/traces', body: bomb, contentType: 'application/json', headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(413);
    expect((res.json as { message: string }).message).toMatch(/inflates past the limit of 65536 bytes/);
  });
});

describe('slow-loris bodies: 408 after the body timeout', () => {
  it('a body trickled one byte at a time is cut off with 408, and others are served meanwhile', async () => {
    const body = json({ limit: 5 });
    const trickle = rawRequest(suite.server.port, head('/v1/telemetry/traces', { 'content-type': 'application/json', 'content-length': String(body.length + 1000) }), [...body], 100, 10_000);
    // Another client is answered while the slow one holds its connection.
    const other = await send(suite.server.url, { method: 'GET', path: '/health' });
    expect(other.status).toBe(200);
    const res = await trickle;
    expect(res.status).toBe(408);
    expect(res.body).toMatch(/request body not complete within 0\.4 seconds/);
    expect(res.head).toMatch(/connection: close/);
    expect(res.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(res.ms).toBeLessThan(5000);
  });

  it('an announced body that never comes: 408, on ingest too (nothing applied)', async () => {
    const res = await rawRequest(suite.server.port, head('/v1/telemetry/events', { 'content-type': 'application/json', 'content-length': '500' }), ['{"events": ['], 0, 10_000);
    expect(res.status).toBe(408);
    expect(res.ms).toBeLessThan(5000);
  });

  it('many slow clients at once: every one gets its 408, the server stays up', async () => {
    const slow = Array.from({ length: 50 }, () =>
      rawRequest(suite.server.port, head('/v1/telemetry/events', { 'content-type': 'application/json', 'content-length': '1000' }), ['{', '"', 'e'], 150, 10_000));
    const results = await Promise.all(slow);
    for (const r of results) expect(r.status).toBe(408);
    await expectHealthy(suite.server.url);
  });
});
