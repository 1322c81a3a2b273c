/**
 * The WebSocket ingest stream end to end (SPEC §3): acks in message order once durable,
 * errors per message, the message size limit, and a client that does not read its acks.
 */
import { Packr, pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;
const BASE_MS = (Math.floor(Date.now() / 1000) - 3600) * 1000;

beforeAll(async () => {
  server = await startTestServer(['--body-limit-bytes', '4MiB']);
});
afterAll(async () => {
  await server?.cleanup();
});

function connect(): Promise<WebSocket> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/telemetry/stream`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Collects every message until `count` arrived. */
function acks(ws: WebSocket, count: number): Promise<unknown[]> {
  const received: unknown[] = [];
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)));
      if (received.length === count) resolve(received);
    });
    ws.once('close', (code) => reject(new Error(`closed (${code}) after ${received.length} acks`)));
  });
}

async function openStreams(): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
}

function metricEvent(metric: string, second: number, value: number, attributes: object = {}) {
  return { type: 'metric', trace_id: 't', span_id: 's', timestamp: BASE_MS + second * 1000, metric, value, unit: '', attributes };
}

async function sampleCount(metric: string): Promise<number> {
  const response = await fetch(`${server.url}/v1/telemetry/metrics/${metric}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ start_time: BASE_MS / 1000 - 10, granularity: null }),
  });
  const { data } = await response.json() as { data: { values: unknown[] }[] };
  return data.reduce((n, s) => n + s.values.length, 0);
}

describe('WebSocket stream', () => {
  it('acknowledges every message in order, with the count applied or the error', async () => {
    const ws = await connect();
    const expected: unknown[] = [];
    const done = acks(ws, 60);
    const records = new Packr({ useRecords: true, moreTypes: true });
    for (let i = 0; i < 60; i++) {
      switch (i % 4) {
        case 0: // an event batch
          ws.send(pack({ events: [metricEvent('st_order', i, i), metricEvent('st_order', i + 0.5, i)] }));
          expected.push({ ok: 2 });
          break;
        case 1: // a series batch with typed arrays and records
          ws.send(records.pack({ series: [{ metric: 'st_order', labels: { s: 1 }, timestamps: new Float64Array([BASE_MS + i * 1000]), values: new Float64Array([i]) }] }));
          expected.push({ ok: 1 });
          break;
        case 2: // invalid: nothing of it applied
          ws.send(pack({ events: [metricEvent('st_order', i, i), { ...metricEvent('st_order', i, i), value: 'NaN' }] }));
          expected.push({ error: 'events[1].value: expected finite number, got "NaN"' });
          break;
        case 3: // one event as a JSON text frame
          ws.send(JSON.stringify({ event: metricEvent('st_order', i, i) }));
          expected.push({ ok: 1 });
          break;
      }
    }
    expect(await done).toEqual(expected);
    expect(await sampleCount('st_order')).toBe(15 * 2 + 15 + 15);
    ws.close();
  });

  it('answers a malformed message with an error and keeps the connection', async () => {
    const ws = await connect();
    const done = acks(ws, 2);
    ws.send(Uint8Array.of(0xc1));
    ws.send(pack({ event: metricEvent('st_after_bad', 1, 1) }));
    const [bad, good] = await done;
    expect((bad as { error: string }).error).toMatch(/malformed msgpack/);
    expect(good).toEqual({ ok: 1 });
    ws.close();
  });

  it('closes a connection that sends a message over the body limit', async () => {
    const ws = await connect();
    const close = closed(ws);
    ws.send(new Uint8Array(5 * 1024 * 1024));
    expect((await close).code).not.toBe(1000);
  });

  it('delivers every ack, in order, to a reader that pauses and then reads', async () => {
    const ws = await connect();
    ws.pause();
    const done = acks(ws, 200);
    for (let i = 0; i < 200; i++) ws.send(pack({ event: metricEvent('st_paused', i, i) }));
    await new Promise((r) => setTimeout(r, 300));
    ws.resume();
    expect(await done).toEqual(Array.from({ length: 200 }, () => ({ ok: 1 })));
    ws.close();
  });

  it('closes (1008) a client that never reads its acks once they pile up, and stays up for others', async () => {
    const ws = await connect();
    ws.pause();
    const close = closed(ws);
    // Each refusal quotes the long attribute name, so every ack is ~256 KiB: the socket
    // buffers fill after a few and the held-back acks pass the 1 MiB unread bound.
    const longKey = 'k'.repeat(256 * 1024);
    const bad = pack({ event: metricEvent('st_slow', 1, 1, { [longKey]: { nested: true } }) });
    for (let i = 0; i < 64; i++) ws.send(bad);
    // Read nothing until the server has given up on this client (its close frame waits behind the acks).
    while (!(await openStreams()).includes('strata_stream_connections 0')) await new Promise((r) => setTimeout(r, 50));
    ws.resume();
    const { code, reason } = await close;
    expect(code).toBe(1008);
    expect(reason).toMatch(/not read/);

    const other = await connect();
    const done = acks(other, 1);
    other.send(pack({ event: metricEvent('st_other', 1, 1) }));
    expect(await done).toEqual([{ ok: 1 }]);
    other.close();
  });
});
