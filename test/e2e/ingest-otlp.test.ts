/**
 * OTLP/HTTP JSON end to end: the OpenTelemetry JS SDK and its real OTLP HTTP exporters
 * sending to the real server, then read back through the Llama Stack API.
 */
import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

let server: TestServer;
const resource = resourceFromAttributes({ 'service.name': 'agent-svc', 'deployment.environment': 'test' });

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.cleanup();
});

async function postJson(path: string, body: unknown) {
  const response = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

async function getJson(path: string) {
  const response = await fetch(server.url + path);
  expect(response.status).toBe(200);
  return response.json() as Promise<Record<string, unknown>>;
}

describe('traces from @opentelemetry/exporter-trace-otlp-http', () => {
  it('become spans with hex ids, parents, status, flattened attributes and resource attributes', async () => {
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${server.url}/v1/traces` }))],
    });
    const tracer = provider.getTracer('strata-test');
    const root = tracer.startSpan('agent.turn', { attributes: { session_id: 'S1', 'turn.index': 3, retry: false } });
    const child = tracer.startSpan('inference', { attributes: { model: 'llama-3', tags: ['a', 'b'] } }, trace.setSpan(ROOT_CONTEXT, root));
    child.addEvent('token.first', { latency_ms: 12.5 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = root.spanContext().traceId;
    const rootId = root.spanContext().spanId;
    const childId = child.spanContext().spanId;
    const t = await getJson(`/v1/telemetry/traces/${traceId}`);
    expect(t).toMatchObject({ trace_id: traceId, root_span_id: rootId });

    const span = await getJson(`/v1/telemetry/traces/${traceId}/spans/${childId}`);
    expect(span).toMatchObject({
      span_id: childId, trace_id: traceId, parent_span_id: rootId, name: 'inference',
      attributes: { model: 'llama-3', tags: '["a","b"]', 'service.name': 'agent-svc', 'deployment.environment': 'test' },
    });
    expect(span.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const tree = await postJson(`/v1/telemetry/spans/${rootId}/tree`, {});
    const spans = tree.body.data as Record<string, { status?: string; attributes: Record<string, unknown> }>;
    expect(spans[childId]!.status).toBe('error');
    expect(spans[rootId]!.status).toBe('ok');
    expect(spans[rootId]!.attributes).toMatchObject({ session_id: 'S1', 'turn.index': 3, retry: false });
  });
});

describe('metrics from @opentelemetry/exporter-metrics-otlp-http', () => {
  it('become series: sums and gauges as samples, histograms as cumulative _bucket{le}, _sum and _count', async () => {
    const exporter = new OTLPMetricExporter({ url: `${server.url}/v1/metrics` });
    const provider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })] });
    const meter = provider.getMeter('strata-test');
    const tokens = meter.createCounter('prompt_tokens', { unit: 'tokens' });
    tokens.add(10, { model: 'llama-3' });
    tokens.add(5, { model: 'llama-3' });
    tokens.add(7, { model: 'llama-4' });
    const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
    for (const ms of [5, 50, 50, 500]) latency.record(ms, { route: 'chat' });
    meter.createGauge('queue_depth').record(3.5);
    await provider.forceFlush();
    await provider.shutdown();

    const query = async (metric: string, matchers: { name: string; value: string }[] = []) => {
      const { status, body } = await postJson(`/v1/telemetry/metrics/${metric}`, {
        start_time: Math.floor(Date.now() / 1000) - 600, end_time: Math.floor(Date.now() / 1000) + 600, granularity: null, label_matchers: matchers,
      });
      expect(status).toBe(200);
      return body.data as { labels: { name: string; value: string }[]; values: { value: number; unit: string }[] }[];
    };
    const labelsOf = (s: { labels: { name: string; value: string }[] }) => Object.fromEntries(s.labels.map((l) => [l.name, l.value]));

    const counters = await query('prompt_tokens');
    expect(counters.map((s) => [labelsOf(s).model, s.values.at(-1)!.value, s.values[0]!.unit]).sort()).toEqual([['llama-3', 15, 'tokens'], ['llama-4', 7, 'tokens']]);
    expect(labelsOf(counters[0]!)).toMatchObject({ 'service.name': 'agent-svc' });

    const buckets = await query('latency_bucket', [{ name: 'route', value: 'chat' }]);
    const byLe = Object.fromEntries(buckets.map((s) => [labelsOf(s).le, s.values.at(-1)!.value]));
    expect(byLe).toEqual({ '10': 1, '100': 3, '+Inf': 4 });
    expect((await query('latency_sum'))[0]!.values.at(-1)!.value).toBe(605);
    expect((await query('latency_count'))[0]!.values.at(-1)!.value).toBe(4);
    expect((await query('queue_depth'))[0]!.values.at(-1)!.value).toBe(3.5);
  });
});

describe('the OTLP routes', () => {
  it('refuse protobuf with 415 and say how to switch to JSON', async () => {
    const response = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(4) });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ code: 3, message: expect.stringMatching(/http\/json/) });
  });

  it('reject a malformed envelope with 400 and report unreadable spans as a partial success', async () => {
    expect((await postJson('/v1/traces', { resourceSpans: 'nope' })).status).toBe(400);
    const now = `${BigInt(Date.now()) * 1_000_000n}`;
    const good = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), name: 'ok', startTimeUnixNano: now, endTimeUnixNano: now };
    const bad = { ...good, spanId: 'xyz' };
    const { status, body } = await postJson('/v1/traces', { resourceSpans: [{ scopeSpans: [{ spans: [good, bad] }] }] });
    expect(status).toBe(200);
    expect(body).toEqual({ partialSuccess: { rejectedSpans: 1, errorMessage: 'resourceSpans[0].scopeSpans[0].spans[1].spanId: expected 16 hex digits, got "xyz"' } });
    expect((await getJson(`/v1/telemetry/traces/${'a'.repeat(32)}/spans/${'b'.repeat(16)}`)).name).toBe('ok');
  });
});
