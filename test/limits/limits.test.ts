/**
 * Resource limits end to end, on a real server configured with small limits: every limit
 * refuses with its status and a message naming the limit, refuses the whole batch (nothing of
 * it applied, earlier data intact), and shows up in /metrics.
 */
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHealthy, expectRejected, send, startTestServer, type RequestSpec, type TestServer } from '../hostile/helpers.ts';

let server: TestServer;
const packr = new Packr({ moreTypes: true });
const nowMs = Date.now();
const iso = (ms = nowMs) => new Date(ms).toISOString();

beforeAll(async () => {
  server = await startTestServer([
    '--max-series', '10', '--max-labels', '4', '--max-label-name-bytes', '16', '--max-label-value-bytes', '32',
    '--max-attributes', '5', '--max-attribute-bytes', '200', '--max-spans-per-trace', '5', '--max-query-points', '50',
    '--max-points-per-series', '100', '--max-concurrent-queries', '2', '--retention-sweep-ms', '200',
  ]);
});
afterAll(async () => server?.cleanup());

const EVENTS = '/v1/telemetry/events';
const postJson = (path: string, body: unknown): RequestSpec => ({ method: 'POST', path, body: JSON.stringify(body) });
const postMsgpack = (path: string, body: unknown): RequestSpec => ({ method: 'POST', path, body: packr.pack(body), contentType: 'application/msgpack' });
const metric = (name: string, attributes: Record<string, unknown>, value = 1, ts = nowMs) =>
  ({ type: 'metric', trace_id: 't', span_id: 's', timestamp: iso(ts), metric: name, value, unit: 'u', attributes });
const spanStart = (trace: string, span: string, attributes?: Record<string, unknown>) =>
  ({ type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(), attributes, payload: { type: 'span_start', name: 'op' } });

async function ok(spec: RequestSpec): Promise<void> {
  const res = await send(server.url, spec);
  expect(res.status, res.text).toBe(200);
}

async function metricsText(): Promise<string> {
  return (await send(server.url, { method: 'GET', path: '/metrics' })).text;
}

function metricValue(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? NaN : Number(found.slice(line.length + 1));
}

async function rawPoints(name: string, matchers: object[] = []): Promise<number> {
  const res = await send(server.url, postJson(`/v1/telemetry/metrics/${name}`, { start_time: Math.floor(nowMs / 1000) - 3600, end_time: Math.floor(nowMs / 1000) + 3600, granularity: null, label_matchers: matchers }));
  expect(res.status, res.text).toBe(200);
  return (res.json as { data: { values: unknown[] }[] }).data.reduce((n, s) => n + s.values.length, 0);
}

describe('/metrics shows every limit and its rejections', () => {
  it('exposes the configured limits, live series, queries in flight and rejection counters at 0', async () => {
    const text = await metricsText();
    expect(metricValue(text, 'strata_limit{limit="series"}')).toBe(10);
    expect(metricValue(text, 'strata_limit{limit="labels"}')).toBe(4);
    expect(metricValue(text, 'strata_limit{limit="concurrent_queries"}')).toBe(2);
    expect(metricValue(text, 'strata_limit{limit="points_per_series"}')).toBe(100);
    for (const limit of ['series', 'labels', 'label_name_bytes', 'label_value_bytes', 'attributes', 'attribute_bytes', 'spans_per_trace', 'query_points', 'points_per_series', 'concurrent_queries']) {
      expect(text).toContain(`strata_limit_rejections_total{limit="${limit}"}`);
    }
    expect(text).toMatch(/^strata_series \d+$/m);
    expect(text).toMatch(/^strata_queries_in_flight \d+$/m);
    // What a soak watches: process memory and the store's own sizes.
    for (const gauge of ['nodejs_heap_used_bytes', 'nodejs_heap_total_bytes', 'nodejs_array_buffers_bytes', 'nodejs_external_memory_bytes',
      'strata_spans_indexed', 'strata_traces_indexed', 'strata_segments_sealed', 'strata_segments_dropped', 'strata_segments_compacted',
      'strata_wal_bytes', 'strata_wal_files', 'strata_segment_files', 'strata_pending_flushes']) {
      expect(text).toMatch(new RegExp(`^${gauge} \\d+$`, 'm'));
    }
    expect(text).toMatch(/^strata_segments\{table="span_events"\} \d+$/m);
    expect(text).toMatch(/^strata_head_rows\{table="metrics"\} \d+$/m);
  });
});

describe('labels and attributes (400, the whole batch refused)', () => {
  it('labels per series, label name and value length, metric name length — on every ingest shape', async () => {
    const five = { a: '1', b: '2', c: '3', d: '4', e: '5' };
    await ok(postJson(EVENTS, { event: metric('label_ok', { a: '1', b: '2', c: '3', d: '4' }) }));
    const cases: [string, RequestSpec, RegExp][] = [
      ['5 labels (JSON events)', postJson(EVENTS, { events: [metric('label_ok', { a: '1' }), metric('labels_many', five)] }), /events\[1\] \(metric "labels_many"\): 5 labels, more than the limit of 4 labels per series|series\[\d\] \(metric "labels_many"\): 5 labels, more than the limit of 4/],
      ['5 labels (msgpack series)', postMsgpack(EVENTS, { series: [{ metric: 'labels_many', labels: five, timestamps: [nowMs], values: [1] }] }), /series\[0\] \(metric "labels_many"\): 5 labels, more than the limit of 4 labels per series/],
      ['long label name', postJson(EVENTS, { event: metric('label_ok', { abcdefghijklmnopq: 'x' }) }), /label name "abcdefghijklmnopq" is 17 bytes, more than the label name limit of 16 bytes/],
      ['long label value', postJson(EVENTS, { event: metric('label_ok', { a: 'x'.repeat(33) }) }), /value of label "a" is 33 bytes, more than the label value limit of 32 bytes/],
      ['long value in UTF-8 bytes', postJson(EVENTS, { event: metric('label_ok', { a: 'é'.repeat(17) }) }), /value of label "a" is 34 bytes, more than the label value limit of 32 bytes/],
      ['long metric name', postJson(EVENTS, { event: metric('m'.repeat(33), {}) }), /metric name is 33 bytes, more than the label value limit of 32 bytes/],
    ];
    for (const [name, spec, message] of cases) expectRejected(await send(server.url, spec), 400, message, name);
    // 16 × "é" is 32 bytes: exactly at the limit.
    await ok(postJson(EVENTS, { event: metric('label_ok', { a: 'é'.repeat(16) }) }));
    // The first batch's label_ok sample was refused with its batch.
    expect(await rawPoints('label_ok')).toBe(2);
    expect(await rawPoints('labels_many')).toBe(0);
    const text = await metricsText();
    expect(metricValue(text, 'strata_limit_rejections_total{limit="labels"}')).toBe(2);
    expect(metricValue(text, 'strata_limit_rejections_total{limit="label_name_bytes"}')).toBe(1);
    expect(metricValue(text, 'strata_limit_rejections_total{limit="label_value_bytes"}')).toBe(3);
  });

  it('attributes per event and their size, on spans and logs', async () => {
    const six = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]));
    const cases: [string, RequestSpec, RegExp][] = [
      ['6 attributes on a span', postJson(EVENTS, { events: [spanStart('attr-trace', 'a1'), spanStart('attr-trace', 'a2', six)] }), /events\[1\]\.attributes: 6 attributes, more than the limit of 5 attributes per event/],
      ['250 bytes of attributes', postJson(EVENTS, { event: spanStart('attr-trace', 'a3', { prompt: 'p'.repeat(250) }) }), /events\[0\]\.attributes: 256 bytes of attributes, more than the limit of 200 bytes per event/],
      ['big log attributes', postJson(EVENTS, { event: { type: 'unstructured_log', trace_id: 'attr-trace', span_id: 'a4', timestamp: iso(), message: 'm', severity: 'info', attributes: { x: 'y'.repeat(300) } } }), /bytes of attributes, more than the limit of 200 bytes per event/],
    ];
    for (const [name, spec, message] of cases) expectRejected(await send(server.url, spec), 400, message, name);
    expect((await send(server.url, { method: 'GET', path: '/v1/telemetry/traces/attr-trace' })).status).toBe(404);
    await ok(postJson(EVENTS, { event: spanStart('attr-trace', 'a5', { k0: 1, k1: 2, k2: 3, k3: 4, k4: 5 }) }));
  });
});

describe('spans per trace (422)', () => {
  it('a batch that would pass the cap is refused whole; repeated starts do not count', async () => {
    await ok(postJson(EVENTS, { events: [1, 2, 3, 4].map((i) => spanStart('busy-trace', `b${i}`)) }));
    // A start repeated, in the batch and of an indexed span: still 5 spans.
    await ok(postJson(EVENTS, { events: [spanStart('busy-trace', 'b1'), spanStart('busy-trace', 'b5'), spanStart('busy-trace', 'b5')] }));
    const res = await send(server.url, postJson(EVENTS, { events: [spanStart('other-trace', 'o1'), spanStart('busy-trace', 'b6')] }));
    expectRejected(res, 422, /trace "busy-trace": spans per trace limit of 5 reached \(5 spans, 1 more in the batch\); nothing of the batch was applied/);
    expect((await send(server.url, { method: 'GET', path: '/v1/telemetry/traces/other-trace' })).status).toBe(404);
    for (const span of ['b1', 'b2', 'b3', 'b4', 'b5']) {
      expect((await send(server.url, { method: 'GET', path: `/v1/telemetry/traces/busy-trace/spans/${span}` })).status).toBe(200);
    }
    expect((await send(server.url, { method: 'GET', path: '/v1/telemetry/traces/busy-trace/spans/b6' })).status).toBe(404);
    expect(metricValue(await metricsText(), 'strata_limit_rejections_total{limit="spans_per_trace"}')).toBe(1);
  });
});

describe('series cardinality (422)', () => {
  it('new series past the cap are refused with their whole batch; existing series keep taking samples; expired series free room', async () => {
    const live = () => metricValue(text0, 'strata_series');
    let text0 = await metricsText();
    const existing = live();
    expect(existing).toBeLessThan(10);
    // Fill up to the cap with short-lived series (a few seconds of TTL from now).
    const t = Date.now();
    const fill = Array.from({ length: 10 - existing }, (_, i) => metric('card', { i: String(i) }, 1, t));
    await ok(postJson(EVENTS, { events: fill, ttl_seconds: 4 }));
    text0 = await metricsText();
    expect(live()).toBe(10);

    // Samples of an existing series plus one new series: all refused.
    const res = await send(server.url, postJson(EVENTS, { events: [metric('card', { i: '0' }, 5, t), metric('card', { i: 'new' }, 5, t)], ttl_seconds: 4 }));
    expectRejected(res, 422, /series limit of 10 reached: the batch would create 1 new series and 10 exist; nothing of the batch was applied/);
    expect(await rawPoints('card', [{ name: 'i', value: '0' }])).toBe(1);
    expect(await rawPoints('card', [{ name: 'i', value: 'new' }])).toBe(0);
    // The other shapes are refused the same way.
    expectRejected(await send(server.url, postMsgpack(EVENTS, { series: [{ metric: 'card', labels: { i: 'new2' }, timestamps: [nowMs], values: [1] }] })), 422, /series limit of 10 reached/);
    const otlp = await send(server.url, postJson('/v1/metrics', {
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'otlp_new', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: String(nowMs * 1e6) }] } }] }] }],
    }));
    expect(otlp.status).toBe(422);
    expect(otlp.json).toMatchObject({ code: 8, message: expect.stringMatching(/series limit of 10 reached/) });
    // An existing series still takes samples.
    await ok(postJson(EVENTS, { events: [metric('card', { i: '1' }, 7, t + 1)], ttl_seconds: 4 }));
    expect(await rawPoints('card', [{ name: 'i', value: '1' }])).toBe(2);

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/telemetry/stream`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    ws.send(JSON.stringify({ event: metric('card', { i: 'ws-new' }, 1, t) }));
    expect(JSON.parse(await reply)).toEqual({ error: expect.stringMatching(/series limit of 10 reached/) });
    ws.close();

    expect(metricValue(await metricsText(), 'strata_limit_rejections_total{limit="series"}')).toBe(4);
    // Once the series expire (TTL) and the sweep forgets them, there is room again.
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await send(server.url, postJson(EVENTS, { event: metric('card_after', { z: '1' }, 1, Date.now()), ttl_seconds: 3600 }))).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    await expectHealthy(server.url);
  });
});

describe('points per query', () => {
  it('query_metrics: a raw answer over the cap is a 422 (counted before it is built); bucketed and instant answers fit', async () => {
    const ts = Array.from({ length: 60 }, (_, i) => nowMs - 60_000 + i * 1000);
    await ok(postMsgpack(EVENTS, { series: [{ metric: 'card_after', labels: { z: '1' }, timestamps: ts, values: ts.map(() => 1) }], ttl_seconds: 3600 }));
    const startS = Math.floor(nowMs / 1000) - 3600, endS = Math.floor(nowMs / 1000) + 3600;
    const res = await send(server.url, postJson('/v1/telemetry/metrics/card_after', { start_time: startS, end_time: endS, granularity: null }));
    expectRejected(res, 422, /query_metrics "card_after" would return 61 points, more than the limit of 50 points per query: narrow the time range or the label matchers, or use a coarser granularity/);
    for (const body of [{ granularity: '1h' }, { query_type: 'instant' }, { granularity: null, start_time: Math.floor(nowMs / 1000) - 30 }]) {
      const r = await send(server.url, postJson('/v1/telemetry/metrics/card_after', { start_time: startS, end_time: endS, ...body }));
      expect(r.status, `${JSON.stringify(body)} → ${r.text}`).toBe(200);
    }
    expect(metricValue(await metricsText(), 'strata_limit_rejections_total{limit="query_points"}')).toBe(1);
  });

  it('PromQL query_range: more than the configured points per series is a 400 (Prometheus\' message), counted', async () => {
    const start = Math.floor(nowMs / 1000) - 1000;
    const over = await send(server.url, { method: 'GET', path: `/api/v1/query_range?query=card_after&start=${start}&end=${start + 101}&step=1` });
    expect(over.status).toBe(400);
    expect(over.json).toMatchObject({ status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 100 points per timeseries. Try decreasing the query resolution (?step=XX)' });
    const fits = await send(server.url, { method: 'GET', path: `/api/v1/query_range?query=card_after&start=${start}&end=${start + 100}&step=1` });
    expect(fits.status, fits.text).toBe(200);
    expect(metricValue(await metricsText(), 'strata_limit_rejections_total{limit="points_per_series"}')).toBe(1);
  });
});
