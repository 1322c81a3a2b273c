/**
 * Parity with the real Prometheus 2.42: the same deterministic workload is imported into
 * a Prometheus TSDB with `promtool tsdb create-blocks-from openmetrics`, served by a
 * `prometheus` we start, and queried through its HTTP API. Two things answer the same
 * queries and must agree with it:
 *
 * - our engine over an ArraySource holding the workload (the engine alone);
 * - a real strata server (started in-process) loaded with the workload through msgpack
 *   series batches, asked over its own /api/v1 (the store, StoreSource, the routes and the
 *   JSON encoding). Half of every series is sent after the other half and the heads are
 *   sealed small, so series are read across several segments, out of order.
 *
 * Results must have the same label sets, timestamps and values (relative error ≤ 1e-9,
 * NaN equal to NaN), failing queries the same error. The metadata endpoints and the
 * parameter errors of the HTTP API are compared too.
 *
 * Without prometheus/promtool on PATH the suite is skipped, unless
 * STRATA_REQUIRE_EXTERNAL=1, when it fails instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantQuery, PromQLError, rangeQuery, type QueryResult } from '../../src/promql/engine.ts';
import { ArraySource, type SeriesData } from '../../src/promql/source.ts';
import { startTestServer, type TestServer } from '../e2e/harness.ts';
import { generateWorkload, WORKLOAD_END_MS, WORKLOAD_START_MS } from './parity-workload.ts';
import { PARITY_QUERIES, type ParityQuery } from './parity-queries.ts';
import { missingPrometheusBinaries, startPrometheus, type PrometheusServer } from './prometheus-server.ts';
import { loadSeries } from './strata-load.ts';

const missing = missingPrometheusBinaries();
const required = process.env.STRATA_REQUIRE_EXTERNAL === '1';

if (missing.length > 0) {
  describe('PromQL parity with Prometheus 2.42', () => {
    const reason = `${missing.join(' and ')} not on PATH (apt-get install prometheus)`;
    if (required) {
      it('needs prometheus and promtool (STRATA_REQUIRE_EXTERNAL=1)', () => {
        throw new Error(`${reason}; STRATA_REQUIRE_EXTERNAL=1 demands the external reference`);
      });
    } else {
      it.skip(`skipped: ${reason}`, () => {});
    }
  });
} else {
  describe('PromQL parity with Prometheus 2.42', () => {
    let prometheus: PrometheusServer | undefined;
    let strata: TestServer | undefined;
    let source: ArraySource;
    const answers = new Map<ParityQuery, Promise<Outcome>>();
    /** Prometheus' answer to a query, asked once for both comparisons. */
    const reference = (q: ParityQuery) => {
      let answer = answers.get(q);
      if (!answer) answers.set(q, (answer = queryApi(prometheus!.url, q)));
      return answer;
    };

    beforeAll(async () => {
      const workload = generateWorkload();
      source = new ArraySource(workload.series);
      const started = await Promise.all([
        startPrometheus((path) => workload.writeOpenMetrics(path)),
        // Small heads: the workload ends up in several segments plus a head.
        startTestServer(['--fsync', 'off', '--segment-rows', '150000']),
      ]);
      [prometheus, strata] = started;
      // Second halves first, then the first halves: every series is read across seals, out of order.
      await loadSeries(strata.url, halves(workload.series, 1));
      await waitForSeal();
      await loadSeries(strata.url, halves(workload.series, 0));
    }, 120_000);

    afterAll(async () => {
      await Promise.all([prometheus?.stop(), strata?.cleanup()]);
    }, 30_000);

    describe('the engine over an ArraySource', () => {
      it.each(PARITY_QUERIES.map((q) => [describeQuery(q), q] as const))('%s', async (_, q) => {
        const theirs = await reference(q);
        const ours = queryEngine(source, q);
        if ('error' in theirs || 'error' in ours) {
          expect(ours, 'both must fail alike').toEqual(theirs);
          return;
        }
        expect(isEmpty(theirs.data), 'the query should select data').toBe(q.expectEmpty === true);
        assertSameResult(ours.data, theirs.data, q.kind === 'range');
      });
    });

    describe('a strata server over HTTP', () => {
      it.each(PARITY_QUERIES.map((q) => [describeQuery(q), q] as const))('%s', async (_, q) => {
        const [theirs, ours] = await Promise.all([reference(q), queryApi(strata!.url, q)]);
        if ('error' in theirs || 'error' in ours) {
          expect(ours, 'both must fail alike').toEqual(theirs);
          return;
        }
        expect(isEmpty(theirs.data), 'the query should select data').toBe(q.expectEmpty === true);
        assertSameResult(ours.data, theirs.data, q.kind === 'range');
      });

      it.each(API_REQUESTS.map((r) => [`GET ${r.path}?${new URLSearchParams(r.params)}`, r] as const))('%s', async (_, r) => {
        const [theirs, ours] = await Promise.all([apiGet(prometheus!.url, r), apiGet(strata!.url, r)]);
        expect(ours.status, JSON.stringify(ours.body)).toBe(theirs.status);
        if (r.unordered && Array.isArray(theirs.body.data)) {
          expect(sortedJson(ours.body.data)).toEqual(sortedJson(theirs.body.data));
          expect(ours.body.status).toBe(theirs.body.status);
        } else if (r.result) {
          expect(theirs.body.status).toBe('success');
          assertSameResult(ours.body.data, theirs.body.data, true);
        } else {
          expect(ours.body).toEqual(theirs.body);
        }
      });
    });
  });
}

const S = WORKLOAD_START_MS / 1000;
const E = WORKLOAD_END_MS / 1000;

interface ApiRequest {
  path: string;
  params: [string, string][];
  /** Compare `data` as a set (series lists). */
  unordered?: boolean;
  /** Compare `data` as a query result (values within 1e-9). */
  result?: boolean;
}

const api = (path: string, params: Record<string, string | string[]> = {}, extra: Partial<ApiRequest> = {}): ApiRequest => ({
  path,
  params: Object.entries(params).flatMap(([k, v]) => [v].flat().map((x): [string, string] => [k, x])),
  ...extra,
});

/** Metadata endpoints, time and duration parameters, and parameter errors, against Prometheus' answers. */
const API_REQUESTS: ApiRequest[] = [
  api('/api/v1/labels'),
  api('/api/v1/labels', { 'match[]': 'strata_up' }),
  api('/api/v1/labels', { 'match[]': ['strata_memory_bytes{pod="p1"}', 'strata_request_duration_seconds_bucket{le="+Inf"}'], start: String(S + 600), end: String(E - 600) }),
  // Prometheus' own spellings of its minimum and maximum times.
  api('/api/v1/labels', { start: '-292273086-05-16T16:47:06Z', end: '292277025-08-18T07:12:54.999999999Z' }),
  api('/api/v1/label/__name__/values'),
  api('/api/v1/label/service/values', { 'match[]': 'strata_up{service=~"a.*"}' }),
  api('/api/v1/label/le/values', { start: String(S), end: String(E) }),
  api('/api/v1/label/pod/values', { 'match[]': ['strata_memory_bytes{pod=~"p[0-2]"}', 'strata_memory_bytes{pod="p7"}'] }),
  api('/api/v1/label/nonexistent/values'),
  api('/api/v1/series', { 'match[]': 'strata_up{service="auth"}', start: String(S + 3600), end: String(S + 7200) }, { unordered: true }),
  api('/api/v1/series', { 'match[]': ['strata_queue_depth{instance=~"10.0.0.1.*"}', 'strata_up{instance="10.0.3.4:9100"}', 'strata_up{instance="10.0.3.4:9100"}'] }, { unordered: true }),
  api('/api/v1/series', { 'match[]': '{__name__=~"strata_request_duration_seconds_(sum|count)", service="api", instance!~"10.0.0.1.*"}' }, { unordered: true }),
  // Times: RFC 3339 with an offset and fractions, float seconds rounded to milliseconds.
  api('/api/v1/query', { query: 'strata_queue_depth{service="api"}', time: '2024-01-01T02:30:00.123456+01:00' }, { result: true }),
  api('/api/v1/query', { query: 'time()', time: String(S + 1000.0005) }, { result: true }),
  api('/api/v1/query', { query: 'time()', time: String(S + 1000.1234) }, { result: true }),
  api('/api/v1/query', { query: 'time()', time: '1.7040672e9' }, { result: true }),
  api('/api/v1/query', { query: 'vector(1)', time: '-1.5' }, { result: true }),
  api('/api/v1/query_range', { query: 'sum(strata_up)', start: '2024-01-01T00:10:00Z', end: String(S + 3600), step: '1m30s' }, { result: true }),
  api('/api/v1/query_range', { query: 'sum(strata_up)', start: String(S), end: String(S + 3600), step: '1.5e2' }, { result: true }),
  api('/api/v1/query_range', { query: 'count(strata_queue_depth)', start: String(S + 0.5), end: String(S + 1800.25), step: '45.5' }, { result: true }),
  // Parameter errors.
  api('/api/v1/query', { query: 'strata_up', time: 'abc' }),
  api('/api/v1/query', { query: 'strata_up', time: '2024-01-01 00:00:00' }),
  api('/api/v1/query', { query: 'strata_up', time: '2024-02-30T00:00:00Z' }),
  api('/api/v1/query', { query: 'strata_up', timeout: 'abc' }),
  api('/api/v1/query', { query: 'strata_up{' }),
  api('/api/v1/query', {}),
  api('/api/v1/query_range', { query: 'strata_up', start: String(S), end: String(E) }),
  api('/api/v1/query_range', { query: 'strata_up', start: String(S), end: String(E), step: '-5' }),
  api('/api/v1/query_range', { query: 'strata_up', start: String(S), end: String(E), step: '1d1h' }),
  api('/api/v1/query_range', { query: 'strata_up', start: String(S), end: String(E), step: '1h1d' }),
  api('/api/v1/query_range', { query: 'strata_up', start: 'x', end: String(E), step: '60' }),
  api('/api/v1/query_range', { query: 'strata_up', start: String(E), end: String(S), step: '60' }),
  api('/api/v1/query_range', { query: 'strata_up', start: String(S), end: String(S + 86400), step: '7' }),
  api('/api/v1/query_range', { query: 'strata_up', start: String(S), end: String(S + 60), step: '60', timeout: '1x' }),
  api('/api/v1/series'),
  api('/api/v1/series', { 'match[]': '{service=""}' }),
  api('/api/v1/series', { 'match[]': 'strata_up{' }),
  api('/api/v1/series', { 'match[]': 'strata_up', start: 'soon' }),
  api('/api/v1/series', { 'match[]': 'rate(strata_up[5m])' }),
  api('/api/v1/labels', { 'match[]': '{pod=~".*"}' }),
  api('/api/v1/labels', { end: 'never' }),
  api('/api/v1/label/strata.up/values'),
  api('/api/v1/label/pod/values', { 'match[]': 'x{' }),
];

function describeQuery(q: ParityQuery): string {
  return q.kind === 'instant' ? `instant ${q.query} @${q.time}` : `range ${q.query} [${q.start}..${q.end} step ${q.step}]`;
}

/** The first (0) or second (1) half of every series' samples. */
function halves(series: SeriesData[], half: 0 | 1): SeriesData[] {
  return series.map((s) => {
    const mid = s.timestamps.length >> 1;
    const [from, to] = half === 0 ? [0, mid] : [mid, s.timestamps.length];
    return { labels: s.labels, timestamps: s.timestamps.subarray(from, to), values: s.values.subarray(from, to) };
  });
}

/** The server seals a full head on its maintenance tick (every second). */
function waitForSeal(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1500));
}

async function apiGet(baseUrl: string, r: ApiRequest): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${r.path}${r.params.length ? `?${new URLSearchParams(r.params)}` : ''}`);
  return { status: res.status, body: await res.json() };
}

function sortedJson(data: unknown[]): string[] {
  return data.map((d) => JSON.stringify(Object.entries(d as object).sort())).sort();
}

type Outcome = { data: QueryResult } | { error: { type: string; message?: string } };


function queryEngine(source: ArraySource, q: ParityQuery): Outcome {
  try {
    const data =
      q.kind === 'instant'
        ? instantQuery(source, q.query, q.time * 1000)
        : rangeQuery(source, q.query, q.start * 1000, q.end * 1000, q.step * 1000);
    return { data };
  } catch (e) {
    if (!(e instanceof PromQLError)) throw e;
    return { error: q.compareErrorMessage ? { type: e.type, message: e.message } : { type: e.type } };
  }
}

/** A query over a Prometheus HTTP API (Prometheus' or strata's), as a form POST. */
async function queryApi(baseUrl: string, q: ParityQuery): Promise<Outcome> {
  const params: Record<string, string> =
    q.kind === 'instant'
      ? { query: q.query, time: String(q.time) }
      : { query: q.query, start: String(q.start), end: String(q.end), step: String(q.step) };
  const path = q.kind === 'instant' ? '/api/v1/query' : '/api/v1/query_range';
  const res = await fetch(baseUrl + path, { method: 'POST', body: new URLSearchParams(params) });
  const body = (await res.json()) as { status: string; data: QueryResult; errorType: string; error: string };
  if (body.status !== 'success') {
    return { error: q.compareErrorMessage ? { type: body.errorType, message: body.error } : { type: body.errorType } };
  }
  return { data: body.data };
}

function assertSameResult(ours: QueryResult, theirs: QueryResult, checkOrder: boolean): void {
  expect(ours.resultType).toBe(theirs.resultType);
  if (ours.resultType === 'scalar' || ours.resultType === 'string') {
    expect(ours.result[0]).toBe((theirs.result as [number, string])[0]);
    expectClose(ours.result[1], (theirs.result as [number, string])[1], 'scalar');
    return;
  }
  const rows = (r: QueryResult) =>
    (r.result as { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]).map((s) => ({
      key: labelKey(s.metric),
      points: s.values ?? [s.value!],
    }));
  const mine = rows(ours);
  const reference = rows(theirs);
  expect(mine.map((r) => r.key).sort(), 'label sets').toEqual(reference.map((r) => r.key).sort());
  if (checkOrder) expect(mine.map((r) => r.key), 'series order').toEqual(reference.map((r) => r.key));
  const byKey = new Map(reference.map((r) => [r.key, r.points]));
  for (const { key, points } of mine) {
    const want = byKey.get(key)!;
    expect(points.map((p) => p[0]), `timestamps of ${key}`).toEqual(want.map((p) => p[0]));
    points.forEach((p, i) => expectClose(p[1], want[i][1], `${key} @${p[0]}`));
  }
}

function isEmpty(r: QueryResult): boolean {
  return Array.isArray(r.result) && r.result.length === 0;
}

function expectClose(ours: string, theirs: string, what: string): void {
  const a = parseValue(ours);
  const b = parseValue(theirs);
  if (Number.isNaN(a) && Number.isNaN(b)) return;
  if (a === b) {
    expect(ours, `${what}: formatting`).toBe(theirs);
    return;
  }
  const rel = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
  expect(rel <= 1e-9, `${what}: ours ${ours}, Prometheus ${theirs}`).toBe(true);
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

function labelKey(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
