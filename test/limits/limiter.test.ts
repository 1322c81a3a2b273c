/**
 * The limiters on their own: batches in flight hold reservations (concurrent batches cannot
 * overshoot a cap together), the concurrent-query semaphore answers 503 + Retry-After over a
 * real uWS server, and which routes count as queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store.ts';
import { DEFAULT_LIMITS, IngestLimiter, LimitError, LimitMetrics, limitsFrom, QueryLimiter, type Limits } from '../../src/limits.ts';
import { MetricsRegistry } from '../../src/server/metrics-registry.ts';
import { isQueryRoute, withQueryLimits } from '../../src/server/limits.ts';
import type { IngestBatch } from '../../src/storage/events.ts';
import { startTestServer, type TestServer } from '../server/helpers.ts';
import { startTestServer as startStrata } from '../e2e/harness.ts';

const NOW = Date.now() * 1000;

function seriesBatch(names: string[]): IngestBatch {
  return {
    ttlSeconds: 3600, events: [],
    series: names.map((n) => ({ metric: 'm', labels: { n }, timestamps: Float64Array.of(NOW), values: Float64Array.of(1) })),
  };
}

function spanBatch(trace: string, spans: string[]): IngestBatch {
  return { ttlSeconds: 3600, series: [], events: spans.map((s) => ({ kind: 'span_start' as const, traceId: trace, spanId: s, ts: NOW, name: 'op' })) };
}

function limiter(limits: Partial<Limits>) {
  const store = new Store();
  const registry = new MetricsRegistry();
  const all = limitsFrom(limits);
  return { store, registry, ingest: new IngestLimiter(store, all, new LimitMetrics(registry, all), registry) };
}

describe('IngestLimiter', () => {
  it('batches in flight reserve the series they may create', async () => {
    const { store, ingest } = limiter({ maxSeries: 3 });
    const a = ingest.admit(seriesBatch(['a', 'b']));
    // Not applied yet, but reserved: a second batch of two new series would overshoot.
    expect(() => ingest.admit(seriesBatch(['c', 'd']))).toThrow(/series limit of 3 reached: the batch would create 2 new series and 0 exist \(2 more may be created by batches in flight\)/);
    store.apply(seriesBatch(['a', 'b']));
    ingest.release(a);
    expect(() => ingest.admit(seriesBatch(['c', 'd']))).toThrow(LimitError);
    ingest.release(ingest.admit(seriesBatch(['a', 'c'])));
  });

  it('wrap releases the reservation whether ingest succeeds or fails, and refuses before calling it', async () => {
    const { store, ingest, registry } = limiter({ maxSeries: 2 });
    let calls = 0;
    const failing = ingest.wrap(async () => { calls++; throw new Error('disk full'); });
    await expect(failing(seriesBatch(['a', 'b']))).rejects.toThrow('disk full');
    const applying = ingest.wrap(async (b) => { calls++; store.apply(b); });
    await applying(seriesBatch(['a', 'b']));
    await expect(applying(seriesBatch(['c']))).rejects.toMatchObject({ status: 422, limit: 'series' });
    expect(calls).toBe(2);
    expect(registry.render()).toMatch(/strata_limit_rejections_total\{limit="series"\} 1/);
    expect(registry.render()).toMatch(/^strata_series 2$/m);
  });

  it('spans per trace: in-flight reservations count, repeated ids do not', () => {
    const { store, ingest } = limiter({ maxSpansPerTrace: 3 });
    const first = ingest.admit(spanBatch('t', ['a', 'b']));
    expect(() => ingest.admit(spanBatch('t', ['c', 'd']))).toThrow(/trace "t": spans per trace limit of 3 reached \(2 spans, 2 more in the batch\)/);
    store.apply(spanBatch('t', ['a', 'b']));
    ingest.release(first);
    ingest.release(ingest.admit(spanBatch('t', ['a', 'b', 'b', 'c'])));
    expect(() => ingest.admit(spanBatch('t', ['d', 'e']))).toThrow(LimitError);
    expect(() => ingest.admit(spanBatch('u', ['x', 'y', 'z', 'w']))).toThrow(/trace "u"/);
  });

  it('checks metric events as the series they become (attributes as labels, __ keys and nulls left out)', () => {
    const { ingest } = limiter({ maxLabels: 2, maxLabelValueBytes: 8 });
    const batch = (attributes: Record<string, string | number | null>): IngestBatch => ({
      ttlSeconds: 1, series: [], events: [{ kind: 'metric', traceId: 't', spanId: 's', ts: NOW, metric: 'm', value: 1, unit: '', attributes }],
    });
    ingest.release(ingest.admit(batch({ a: 1, b: 2, __hidden: 3, c: null })));
    expect(() => ingest.admit(batch({ a: 1, b: 2, c: 3 }))).toThrow(/events\[0\] \(metric "m"\): 3 labels, more than the limit of 2/);
    expect(() => ingest.admit(batch({ a: 123456789 }))).toThrow(/value of label "a" is 9 bytes/);
  });

  it('checks a series header object once per limiter, and a stricter limiter checks it again', () => {
    const header = { metric: 'm', unit: undefined, labels: { a: '1', b: '2', c: '3' } };
    const batch: IngestBatch = {
      ttlSeconds: 1, events: [], series: [],
      columns: { series: [header], start: Int32Array.of(0, 1), timestamps: Float64Array.of(NOW), values: Float64Array.of(1) },
    };
    const loose = limiter({ maxLabels: 3 }).ingest;
    loose.release(loose.admit(batch));
    loose.release(loose.admit(batch));
    expect(() => limiter({ maxLabels: 2 }).ingest.admit(batch)).toThrow(/series\[0\] \(metric "m"\): 3 labels, more than the limit of 2/);
  });

  it('has generous defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxSeries: 1_000_000, maxLabels: 64, maxLabelNameBytes: 256, maxLabelValueBytes: 1024, maxAttributes: 256,
      maxAttributeBytes: 1024 * 1024, maxSpansPerTrace: 100_000, maxQueryPoints: 10_000_000, maxPointsPerSeries: 11_000, maxConcurrentQueries: 64,
    });
  });
});

describe('the concurrent-query semaphore over a real server', () => {
  let t: TestServer;
  let queries: QueryLimiter;
  let registry: MetricsRegistry;
  const waiting: (() => void)[] = [];

  beforeAll(async () => {
    registry = new MetricsRegistry();
    const limits = limitsFrom({ maxConcurrentQueries: 2 });
    queries = new QueryLimiter(limits, new LimitMetrics(registry, limits), registry);
    t = await startTestServer((server) => {
      const limited = withQueryLimits(server, queries);
      // A query that answers when the test says so.
      limited.route('POST', '/v1/telemetry/slow', () => new Promise((resolve) => waiting.push(() => resolve({ status: 200, body: 'done' }))));
      limited.route('POST', '/v1/telemetry/events', () => ({ status: 200, body: null }));
    }, { bodyLimitBytes: 1024, metrics: registry });
  });
  afterAll(async () => t?.close());

  it('answers 503 with Retry-After past the limit; ingest is not a query; slots come back', async () => {
    const slow = () => fetch(`${t.url}/v1/telemetry/slow`, { method: 'POST', body: '{}' });
    const first = slow();
    const second = slow();
    while (queries.inFlight < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await slow();
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(await third.json()).toEqual({ error: { detail: 'too many concurrent queries: the limit of 2 is reached; retry after 1 s' } });
    expect(registry.render()).toMatch(/^strata_queries_in_flight 2$/m);
    // Ingest does not take a query slot.
    expect((await fetch(`${t.url}/v1/telemetry/events`, { method: 'POST', body: '{}' })).status).toBe(200);
    for (const done of waiting.splice(0)) done();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(queries.inFlight).toBe(0);
    const again = slow();
    while (waiting.length === 0) await new Promise((r) => setTimeout(r, 5));
    waiting.shift()!();
    expect((await again).status).toBe(200);
    expect(registry.render()).toMatch(/strata_limit_rejections_total\{limit="concurrent_queries"\} 1/);
  });

  it('a failing query gives its slot back', async () => {
    const failing = new QueryLimiter(limitsFrom({ maxConcurrentQueries: 1 }), new LimitMetrics(new MetricsRegistry(), DEFAULT_LIMITS));
    await expect(failing.run(() => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(failing.inFlight).toBe(0);
    await expect(failing.run(() => 1)).resolves.toBe(1);
  });
});

describe('which routes are queries', () => {
  it('classifies every route of the real server', async () => {
    const s = await startStrata();
    try {
      const queries = s.server.routes().filter((r) => isQueryRoute(r.method, r.pattern)).map((r) => `${r.method} ${r.pattern}`);
      expect(queries).toEqual(expect.arrayContaining([
        'POST /v1/telemetry/traces', 'POST /alpha/telemetry/query-traces', 'GET /v1/telemetry/traces/:trace_id',
        'POST /v1/telemetry/spans/:span_id/tree', 'POST /v1/telemetry/spans', 'POST /v1/telemetry/spans/export',
        'POST /v1/telemetry/metrics/:metric_name', 'GET /v1/datasetio/iterrows/:dataset_id', 'GET /api/v1/query', 'POST /api/v1/query_range',
      ]));
      for (const notQuery of ['POST /v1/telemetry/events', 'POST /alpha/telemetry/log-event', 'POST /v1/traces', 'POST /v1/metrics', 'GET /health', 'GET /metrics', 'GET /openapi.json', 'GET /ui/:file']) {
        expect(queries).not.toContain(notQuery);
      }
    } finally {
      await s.cleanup();
    }
  });
});
