/**
 * HTTP ingest end to end (SPEC §3): every body shape, content type, timestamp form and
 * column encoding round-trips through the real server; rejected bodies apply nothing.
 */
import { Packr, pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;

// Whole seconds an hour ago: inside the default TTL, and metric points come back in seconds.
const BASE_MS = (Math.floor(Date.now() / 1000) - 3600) * 1000;
const MSGPACK = 'application/msgpack';

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.cleanup();
});

async function post(path: string, body: unknown, contentType: string, encoded?: Uint8Array | string) {
  const payload = encoded ?? (contentType === 'application/json' ? JSON.stringify(body) : pack(body));
  const response = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': contentType }, body: typeof payload === 'string' ? payload : new Uint8Array(payload) });
  return { status: response.status, body: await response.json() as unknown };
}

/** Raw samples of a metric as [epoch seconds, value] pairs, per series (by label text). */
async function samples(metric: string): Promise<Record<string, [number, number][]>> {
  const { status, body } = await post(`/v1/telemetry/metrics/${metric}`, { start_time: BASE_MS / 1000 - 10, granularity: null }, 'application/json');
  expect(status).toBe(200);
  const out: Record<string, [number, number][]> = {};
  for (const s of (body as { data: { labels: { name: string; value: string }[]; values: { timestamp: number; value: number }[] }[] }).data) {
    out[s.labels.map((l) => `${l.name}=${l.value}`).join(',')] = s.values.map((p) => [p.timestamp - BASE_MS / 1000, p.value]);
  }
  return out;
}

function metricEvent(metric: string, second: number, value: number, timestamp: unknown = BASE_MS + second * 1000, attributes: object = { host: 'a' }) {
  return { type: 'metric', trace_id: 't', span_id: 's', timestamp, metric, value, unit: 'ms', attributes };
}

describe('events', () => {
  it('takes one event and batches, as JSON and as msgpack, on both routes', async () => {
    expect(await post('/v1/telemetry/events', { event: metricEvent('ev_json', 1, 1) }, 'application/json')).toEqual({ status: 200, body: null });
    expect((await post('/v1/telemetry/events', { events: [metricEvent('ev_json', 2, 2), metricEvent('ev_json', 3, 3)] }, 'application/json')).status).toBe(200);
    expect((await post('/v1/telemetry/events', { event: metricEvent('ev_json', 4, 4) }, MSGPACK)).status).toBe(200);
    expect((await post('/v1/telemetry/events', { events: [metricEvent('ev_json', 5, 5)] }, 'application/x-msgpack')).status).toBe(200);
    expect((await post('/alpha/telemetry/log-event', { event: metricEvent('ev_json', 6, 6) }, MSGPACK)).status).toBe(200);
    expect((await post('/alpha/telemetry/log-event', { events: [metricEvent('ev_json', 7, 7)], ttl_seconds: 3600 * 24 }, MSGPACK)).status).toBe(200);
    expect(await samples('ev_json')).toEqual({ 'host=a': [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [7, 7]] });
  });

  it('reads msgpack timestamps as ISO strings, timestamp extensions and epoch milliseconds', async () => {
    const events = [
      metricEvent('ev_ts', 1, 1, new Date(BASE_MS + 1000).toISOString()),
      metricEvent('ev_ts', 2, 2, new Date(BASE_MS + 2000)), // msgpackr packs a Date as the timestamp extension
      metricEvent('ev_ts', 3, 3, BASE_MS + 3000),
      metricEvent('ev_ts', 4, 4, BigInt(BASE_MS + 4000)), // uint64, as Python's msgpack writes large ints
    ];
    expect((await post('/v1/telemetry/events', { events }, MSGPACK)).status).toBe(200);
    expect(await samples('ev_ts')).toEqual({ 'host=a': [[1, 1], [2, 2], [3, 3], [4, 4]] });
  });

  it('decodes msgpackr records (the structure extension)', async () => {
    const events = Array.from({ length: 20 }, (_, i) => metricEvent('ev_records', i, i * 0.5, BASE_MS + i * 1000, { host: `h${i % 2}` }));
    const encoded = new Packr({ useRecords: true }).pack({ events });
    expect((await post('/v1/telemetry/events', null, MSGPACK, encoded)).status).toBe(200);
    const got = await samples('ev_records');
    expect(got['host=h0']).toEqual(Array.from({ length: 10 }, (_, k) => [2 * k, k]));
    expect(got['host=h1']).toHaveLength(10);
  });

  it('keeps span events and their microseconds through msgpack', async () => {
    const start = new Date(BASE_MS).toISOString().replace('Z', '') + '321Z';
    const events = [
      { type: 'structured_log', trace_id: 'mp-trace', span_id: 'mp-span', timestamp: start, payload: { type: 'span_start', name: 'op' } },
      { type: 'structured_log', trace_id: 'mp-trace', span_id: 'mp-span', timestamp: BASE_MS + 5, payload: { type: 'span_end', status: 'error' } },
      { type: 'unstructured_log', trace_id: 'mp-trace', span_id: 'mp-span', timestamp: BASE_MS + 1, message: 'hi', severity: 'info' },
    ];
    expect((await post('/v1/telemetry/events', { events }, MSGPACK)).status).toBe(200);
    const span = await (await fetch(`${server.url}/v1/telemetry/traces/mp-trace/spans/mp-span`)).json();
    expect(span).toMatchObject({ name: 'op', start_time: start, end_time: new Date(BASE_MS + 5).toISOString().replace('Z', '000Z') });
  });
});

describe('series batches', () => {
  const timestamps = [BASE_MS + 1000, BASE_MS + 2000, BASE_MS + 3000];
  const values = [1.5, -2, 1e300];
  const le = (xs: number[]) => Buffer.from(new Float64Array(xs).buffer);
  const expected = [[1, 1.5], [2, -2], [3, 1e300]];

  it.each([
    ['msgpack arrays of numbers', (name: string) => pack({ series: [{ metric: name, labels: { k: 'v' }, timestamps, values }] })],
    ['Float64Arrays (msgpackr moreTypes)', (name: string) =>
      new Packr({ moreTypes: true }).pack({ series: [{ metric: name, labels: { k: 'v' }, timestamps: new Float64Array(timestamps), values: new Float64Array(values) }] })],
    ['bin of little-endian float64', (name: string) => pack({ series: [{ metric: name, labels: { k: 'v' }, timestamps: le(timestamps), values: le(values) }] })],
    ['records + mixed encodings', (name: string) =>
      new Packr({ useRecords: true, moreTypes: true }).pack({ series: [{ metric: name, labels: { k: 'v' }, unit: 'ms', timestamps: le(timestamps), values: new Float64Array(values) }] })],
  ])('round-trips %s', async (_, encode) => {
    const name = `series_${Math.random().toString(36).slice(2, 8)}`;
    expect(await post('/v1/telemetry/events', null, MSGPACK, encode(name))).toEqual({ status: 200, body: null });
    expect(await samples(name)).toEqual({ 'k=v': expected });
  });

  it('means the same as the equivalent metric events', async () => {
    const events = [0, 1, 2].map((i) => ({ ...metricEvent('same_events', i, values[i]!, timestamps[i]), attributes: { k: 'v', n: 1 } }));
    await post('/v1/telemetry/events', { events }, MSGPACK);
    await post('/v1/telemetry/events', { series: [{ metric: 'same_series', labels: { k: 'v', n: 1 }, unit: 'ms', timestamps, values }] }, MSGPACK);
    const [a, b] = [await samples('same_events'), await samples('same_series')];
    expect(Object.values(a)).toEqual(Object.values(b));
  });
});

describe('rejected bodies apply nothing', () => {
  const good = (metric: string) => metricEvent(metric, 1, 1);

  it.each([
    ['malformed msgpack (never-used byte)', Uint8Array.of(0xc1), /malformed msgpack/],
    ['truncated msgpack', pack({ events: [metricEvent('x_truncated', 1, 1)] }).subarray(0, 40), /malformed msgpack/],
    ['a msgpack string, not an object', pack('hello'), /body: expected object/],
  ])('%s: 400', async (_, bytes, detail) => {
    const { status, body } = await post('/v1/telemetry/events', null, MSGPACK, bytes);
    expect(status).toBe(400);
    expect((body as { error: { detail: string } }).error.detail).toMatch(detail);
    expect(await samples('x_truncated')).toEqual({});
  });

  it('malformed JSON: 400', async () => {
    expect((await post('/v1/telemetry/events', null, 'application/json', '{"events": [')).status).toBe(400);
  });

  it('a batch with one bad event: 400 naming it, and none of the batch applied', async () => {
    const events = [good('x_bad_event'), { ...good('x_bad_event'), timestamp: 'yesterday' }, good('x_bad_event')];
    for (const contentType of ['application/json', MSGPACK]) {
      const { status, body } = await post('/v1/telemetry/events', { events }, contentType);
      expect(status).toBe(400);
      expect((body as { error: { detail: string } }).error.detail).toMatch(/^events\[1\]\.timestamp: /);
    }
    expect(await samples('x_bad_event')).toEqual({});
  });

  it('series with mismatched column lengths: 400, and the valid series beside it not applied', async () => {
    const series = [
      { metric: 'x_mismatch', labels: {}, timestamps: [BASE_MS, BASE_MS + 1000], values: [1, 2] },
      { metric: 'x_mismatch', labels: { b: 1 }, timestamps: new Float64Array([BASE_MS, BASE_MS + 1000]), values: new Float64Array([1]) },
    ];
    const { status, body } = await post('/v1/telemetry/events', null, MSGPACK, new Packr({ moreTypes: true }).pack({ series }));
    expect(status).toBe(400);
    expect((body as { error: { detail: string } }).error.detail).toBe('series[1].values: expected 2 entries (as many as timestamps), got 1');
    expect(await samples('x_mismatch')).toEqual({});
  });

  it('series bytes that are not whole float64s: 400', async () => {
    const { status } = await post('/v1/telemetry/events', null, MSGPACK,
      pack({ series: [{ metric: 'x_bytes', labels: {}, timestamps: new Uint8Array(12), values: new Uint8Array(12) }] }));
    expect(status).toBe(400);
  });
});

describe('the stream route over plain HTTP', () => {
  it('answers 426 to a GET without an upgrade', async () => {
    const response = await fetch(`${server.url}/v1/telemetry/stream`);
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
  });
});
