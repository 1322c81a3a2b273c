/**
 * Hostile input, case by case, against the real server: each request gets its documented 4xx
 * with a message naming the problem, within the time bound; after each group the server is
 * healthy, the baseline data answers exactly as before, and nothing of a rejected batch is
 * visible.
 */
import { describe, expect, it } from 'vitest';
import {
  baselineSnapshot, deepJsonArrays, deepMsgpackArrays, expectHealthy, expectRejected, json, msgpack, send,
  serverWithBaseline, type RequestSpec,
} from './helpers.ts';


const suite = serverWithBaseline(['--body-limit-bytes', '8MiB', '--max-label-value-bytes', '100000']);

interface Case {
  name: string;
  req: RequestSpec;
  status: number;
  message: RegExp;
}

const EVENTS = '/v1/telemetry/events';
const now = new Date().toISOString();
const spanStart = (trace: string, span: string, extra: object = {}) => ({
  type: 'structured_log', trace_id: trace, span_id: span, timestamp: now, payload: { type: 'span_start', name: 'op' }, ...extra,
});
const metricEvent = (extra: object = {}) => ({ type: 'metric', trace_id: 't', span_id: 's', timestamp: now, metric: 'm', value: 1, unit: 'u', ...extra });
const post = (path: string, body: unknown, contentType?: string): RequestSpec =>
  ({ method: 'POST', path, body: typeof body === 'string' || body instanceof Uint8Array ? body : json(body), contentType });

async function runCases(cases: Case[]): Promise<void> {
  for (const c of cases) expectRejected(await send(suite.server.url, c.req), c.status, c.message, c.name);
  await expectHealthy(suite.server.url);
  expect(await baselineSnapshot(suite.server.url)).toEqual(suite.before);
}

/** A trace id that rejected batches used: none of it may be visible. */
async function expectTraceAbsent(trace: string): Promise<void> {
  const res = await send(suite.server.url, { method: 'GET', path: `/v1/telemetry/traces/${trace}` });
  expect(res.status, `trace ${trace} of a rejected batch`).toBe(404);
}

describe('malformed and truncated bodies', () => {
  const valid = { events: [spanStart('rejected-1', 'r1a'), spanStart('rejected-1', 'r1b')] };
  const validJson = json(valid);
  const validMsgpack = msgpack(valid);

  it('JSON: malformed, truncated, empty object keys, not UTF-8 → 400 naming the JSON problem', async () => {
    await runCases([
      { name: 'garbage', req: post(EVENTS, '{"events": [}'), status: 400, message: /malformed JSON body/ },
      { name: 'truncated', req: post(EVENTS, validJson.slice(0, validJson.length - 7)), status: 400, message: /malformed JSON body/ },
      { name: 'truncated at 1 byte', req: post(EVENTS, '{'), status: 400, message: /malformed JSON body/ },
      { name: 'trailing garbage', req: post(EVENTS, validJson + 'x'), status: 400, message: /malformed JSON body/ },
      { name: 'invalid UTF-8', req: post(EVENTS, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), status: 400, message: /malformed JSON body/ },
      { name: 'query: malformed', req: post('/v1/telemetry/traces', '{"limit": 1,'), status: 400, message: /malformed JSON body/ },
      { name: 'metrics: malformed', req: post('/v1/telemetry/metrics/m', '{"start_time": 01}'), status: 400, message: /malformed JSON body/ },
    ]);
    await expectTraceAbsent('rejected-1');
  });

  it('msgpack: malformed, truncated, never-used byte → 400 naming the msgpack problem', async () => {
    const mp = 'application/msgpack';
    await runCases([
      { name: 'truncated', req: post(EVENTS, validMsgpack.subarray(0, validMsgpack.length - 5), mp), status: 400, message: /malformed msgpack body/ },
      { name: 'one byte of a map header', req: post(EVENTS, new Uint8Array([0xde]), mp), status: 400, message: /malformed msgpack body/ },
      { name: 'never-used 0xc1', req: post(EVENTS, new Uint8Array([0xc1]), mp), status: 400, message: /malformed msgpack body/ },
      { name: 'str32 claiming 4 GiB', req: post(EVENTS, new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), mp), status: 400, message: /malformed msgpack body/ },
      { name: 'array32 claiming 4G items', req: post(EVENTS, new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]), mp), status: 400, message: /malformed msgpack body|expected/ },
      { name: 'x-msgpack truncated', req: post(EVENTS, validMsgpack.subarray(0, 10), 'application/x-msgpack'), status: 400, message: /malformed msgpack body/ },
      { name: 'query: truncated msgpack', req: post('/v1/telemetry/traces', msgpack({ limit: 5 }).subarray(0, 3), mp), status: 400, message: /malformed msgpack body/ },
    ]);
    await expectTraceAbsent('rejected-1');
  });
});

describe('wrong types, unknown event types, unknown fields', () => {
  it('names the field and what was expected', async () => {
    await runCases([
      { name: 'body is an array', req: post(EVENTS, []), status: 400, message: /body: expected object, got array/ },
      { name: 'body is a number', req: post(EVENTS, '42'), status: 400, message: /body: expected object/ },
      { name: 'body is null', req: post(EVENTS, 'null'), status: 400, message: /body: expected object, got null/ },
      { name: 'timestamp a boolean', req: post(EVENTS, { event: { ...metricEvent(), timestamp: true } }), status: 400, message: /event\.timestamp: expected/ },
      { name: 'value a string', req: post(EVENTS, { event: metricEvent({ value: '1' }) }), status: 400, message: /event\.value: expected finite number, got "1"/ },
      { name: 'unknown event type', req: post(EVENTS, { event: { ...metricEvent(), type: 'telepathy' } }), status: 400, message: /event\.type: expected one of "unstructured_log", "metric", "structured_log", got "telepathy"/ },
      { name: 'unknown payload type', req: post(EVENTS, { event: spanStart('rejected-2', 'x', { payload: { type: 'span_middle', name: 'n' } }) }), status: 400, message: /event\.payload\.type: expected one of "span_start", "span_end"/ },
      { name: 'attribute an object', req: post(EVENTS, { event: spanStart('rejected-2', 'x', { attributes: { a: { b: 1 } } }) }), status: 400, message: /event\.attributes\.a: expected string, number, boolean or null, got object/ },
      { name: 'one bad event in a batch', req: post(EVENTS, { events: [spanStart('rejected-2', 'ok-1'), spanStart('rejected-2', 'ok-2'), { ...metricEvent(), trace_id: 7 }] }), status: 400, message: /events\[2\]\.trace_id: expected non-empty string, got 7/ },
      { name: 'ttl negative', req: post(EVENTS, { event: spanStart('rejected-2', 'x'), ttl_seconds: -5 }), status: 400, message: /ttl_seconds: expected integer >= 0, got -5/ },
      { name: 'ttl a float', req: post(EVENTS, { event: spanStart('rejected-2', 'x'), ttl_seconds: 1.5 }), status: 400, message: /ttl_seconds: expected integer/ },
      { name: 'query_traces filters a string', req: post('/v1/telemetry/traces', { attribute_filters: 'model=llama' }), status: 400, message: /attribute_filters: expected/ },
      { name: 'query_traces unknown op', req: post('/v1/telemetry/traces', { attribute_filters: [{ key: 'a', op: 'like', value: 1 }] }), status: 400, message: /attribute_filters\[0\]\.op: expected one of "eq", "ne", "gt", "lt"/ },
      { name: 'query_spans missing fields', req: post('/v1/telemetry/spans', {}), status: 400, message: /attribute_filters: missing, expected array/ },
      { name: 'span tree max_depth a string', req: post('/v1/telemetry/spans/baseline-span-0/tree', { max_depth: 'all' }), status: 400, message: /max_depth: expected integer/ },
      { name: 'metrics start_time a string', req: post('/v1/telemetry/metrics/m', { start_time: 'yesterday' }), status: 400, message: /start_time: expected integer, got "yesterday"/ },
      { name: 'metrics unknown matcher op', req: post('/v1/telemetry/metrics/m', { start_time: 0, label_matchers: [{ name: 'a', value: 'b', operator: '~=' }] }), status: 400, message: /label_matchers\[0\]\.operator/ },
      { name: 'series batch of unequal columns', req: post(EVENTS, msgpack({ series: [{ metric: 'm', labels: {}, timestamps: [1, 2], values: [1] }] }), 'application/msgpack'), status: 400, message: /series\[0\]\.values: expected 2 entries/ },
      { name: 'series batch out of order', req: post(EVENTS, msgpack({ series: [{ metric: 'm', labels: {}, timestamps: [2, 1], values: [1, 1] }] }), 'application/msgpack'), status: 400, message: /series\[0\]\.timestamps\[1\]: expected timestamps in time order/ },
      { name: 'series batch bin not of float64s', req: post(EVENTS, msgpack({ series: [{ metric: 'm', labels: {}, timestamps: new Uint8Array(7), values: new Uint8Array(7) }] }), 'application/msgpack'), status: 400, message: /series\[0\]\.timestamps: expected .*7 bytes, not a multiple of 8/ },
    ]);
    await expectTraceAbsent('rejected-2');
  });

  it('unknown fields are ignored (as pydantic does), in events and in queries', async () => {
    const res = await send(suite.server.url, post(EVENTS, { event: spanStart('extra-fields', 'ef1', { colour: 'blue', payload: { type: 'span_start', name: 'n', mood: 1 } }), also: [1, 2] }));
    expect(res.status, res.text).toBe(200);
    const q = await send(suite.server.url, post('/v1/telemetry/traces', { limit: 1, fancy_option: true, attribute_filters: null }));
    expect(q.status).toBe(200);
    await expectHealthy(suite.server.url);
  });
});

describe('huge strings and arrays, deep nesting', () => {
  it('deep nesting (100k levels) in JSON and msgpack is a 400, never a crash', async () => {
    const depth = 100_000;
    const mp = 'application/msgpack';
    await runCases([
      { name: 'JSON body of 100k nested arrays', req: post(EVENTS, deepJsonArrays(depth)), status: 400, message: /body: expected object, got array/ },
      { name: 'JSON event of 100k nested arrays', req: post(EVENTS, `{"event":${deepJsonArrays(depth)}}`), status: 400, message: /event: expected Event object, got array/ },
      { name: 'JSON attribute of 100k nested arrays', req: post(EVENTS, `{"event":{"type":"metric","trace_id":"t","span_id":"s","timestamp":0,"metric":"m","value":1,"unit":"u","attributes":{"a":${deepJsonArrays(depth)}}}}`), status: 400, message: /event\.attributes\.a: expected/ },
      { name: 'JSON query matchers of 100k nested arrays', req: post('/v1/telemetry/metrics/m', `{"start_time":0,"label_matchers":${deepJsonArrays(depth)}}`), status: 400, message: /label_matchers\[0\]: expected MetricLabelMatcher object, got array/ },
      { name: 'JSON nested objects 100k deep', req: post(EVENTS, '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)), status: 400, message: /event: missing/ },
      { name: 'msgpack body of 100k nested arrays', req: post(EVENTS, deepMsgpackArrays(depth), mp), status: 400, message: /malformed msgpack body: nested too deeply/ },
      { name: 'msgpack query of 100k nested arrays', req: post('/v1/telemetry/traces', deepMsgpackArrays(depth), mp), status: 400, message: /malformed msgpack body/ },
      { name: 'msgpack nested 1M deep', req: post(EVENTS, deepMsgpackArrays(1_000_000), mp), status: 400, message: /malformed msgpack body/ },
    ]);
  });

  it('huge strings and arrays are refused by the limits or handled in time', async () => {
    const big = 'x'.repeat(1_500_000);
    await runCases([
      { name: 'a 1.5 MB attribute', req: post(EVENTS, { event: spanStart('rejected-3', 'big', { attributes: { prompt: big } }) }), status: 400, message: /event(s\[0\])?\.attributes: \d+ bytes of attributes, more than the limit of 1048576 bytes per event/ },
      { name: '10k attributes on one event', req: post(EVENTS, { event: spanStart('rejected-3', 'wide', { attributes: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i])) }) }), status: 400, message: /10000 attributes, more than the limit of 256 attributes per event/ },
      { name: '10k events, the last one bad', req: post(EVENTS, { events: [...Array.from({ length: 10_000 }, (_, i) => spanStart('rejected-3', `s${i}`)), { type: 'metric' }] }), status: 400, message: /events\[10000\]\.trace_id: missing/ },
      { name: '100k label matchers, one an invalid regex', req: post('/v1/telemetry/metrics/m', { start_time: 0, label_matchers: [...Array.from({ length: 100_000 }, (_, i) => ({ name: `l${i}`, value: 'v' })), { name: 'z', value: '(', operator: '=~' }] }), status: 400, message: /invalid regular expression/ },
    ]);
    // A huge regex is refused before it is compiled.
    expectRejected(await send(suite.server.url, post('/v1/telemetry/metrics/m', { start_time: 0, label_matchers: [{ name: 'a', value: big.slice(0, 1_000_000), operator: '=~' }] })),
      400, /label_matchers: regular expression of 1000000 characters is too long: the limit is 16384/, '1 MB regex');
    await expectTraceAbsent('rejected-3');
  });
});

describe('bad numbers, orderings, durations and timestamps in queries', () => {
  it('limits, offsets, order_by, max_depth', async () => {
    await runCases([
      { name: 'negative limit', req: post('/v1/telemetry/traces', { limit: -1 }), status: 400, message: /limit: expected integer >= 0, got -1/ },
      { name: 'negative offset', req: post('/v1/telemetry/traces', { offset: -10 }), status: 400, message: /offset: expected integer >= 0, got -10/ },
      { name: 'fractional limit', req: post('/v1/telemetry/traces', { limit: 2.5 }), status: 400, message: /limit: expected integer/ },
      { name: 'unknown order_by', req: post('/v1/telemetry/traces', { order_by: ['duration'] }), status: 400, message: /order_by\[0\]: unknown field "duration"/ },
      { name: 'order_by injection', req: post('/v1/telemetry/traces', { order_by: ['start_time; DROP TABLE'] }), status: 400, message: /order_by\[0\]: unknown field/ },
      { name: 'order_by a string', req: post('/v1/telemetry/traces', { order_by: '-start_time' }), status: 400, message: /order_by: expected/ },
      { name: 'max_depth 0', req: post('/v1/telemetry/spans/baseline-span-0/tree', { max_depth: 0 }), status: 400, message: /max_depth: expected integer >= 1, got 0/ },
      { name: 'max_depth negative (legacy)', req: post('/alpha/telemetry/get-span-tree', { span_id: 'baseline-span-0', max_depth: -3 }), status: 400, message: /max_depth: expected integer >= 1, got -3/ },
      { name: 'iterrows negative start', req: { method: 'GET', path: '/v1/datasetio/iterrows/ds?start_index=-1' }, status: 400, message: /start_index: expected an integer >= 0, got "-1"/ },
      { name: 'iterrows limit not a number', req: { method: 'GET', path: '/v1/datasetio/iterrows/ds?limit=lots' }, status: 400, message: /limit: expected an integer >= 0, got "lots"/ },
      { name: 'iterrows limit infinite', req: { method: 'GET', path: '/v1/datasetio/iterrows/ds?limit=1e400' }, status: 400, message: /limit: expected an integer >= 0/ },
    ]);
    // Huge limits and offsets are fine: they just return what there is.
    for (const body of [{ limit: 1e15 }, { offset: 1e15 }, { limit: Number.MAX_SAFE_INTEGER, offset: Number.MAX_SAFE_INTEGER }]) {
      const res = await send(suite.server.url, post('/v1/telemetry/traces', body));
      expect(res.status, res.text).toBe(200);
    }
    const deep = await send(suite.server.url, post('/v1/telemetry/spans/baseline-span-0/tree', { max_depth: 1e15 }));
    expect(deep.status).toBe(200);
  });

  it('durations (granularity) and times', async () => {
    const m = '/v1/telemetry/metrics/baseline_requests';
    await runCases([
      ...['5x', '0m', '-1h', '1.5h', '1h30m', 'PT1H', ' 1h', '1H'].map((g) => ({
        name: `granularity ${JSON.stringify(g)}`, req: post(m, { start_time: 0, granularity: g }), status: 400, message: /granularity: expected a duration/,
      })),
      { name: 'end before start', req: post(m, { start_time: 2000, end_time: 1000 }), status: 400, message: /end_time \(1000\) is before start_time \(2000\)/ },
      { name: 'start_time fractional', req: post(m, { start_time: 1.5 }), status: 400, message: /start_time: expected integer, got 1\.5/ },
      { name: 'unknown query_type', req: post(m, { start_time: 0, query_type: 'histogram' }), status: 400, message: /query_type: expected one of "range", "instant"/ },
    ]);
    // Extreme but valid ranges and buckets are answered (sparse buckets, no giant allocation).
    for (const body of [
      { start_time: -1e15, end_time: 1e15, granularity: '1s' },
      { start_time: 0, granularity: '999999999999w' },
      { start_time: -1e15, end_time: 1e15, query_type: 'instant' },
    ]) {
      const res = await send(suite.server.url, post(m, body));
      expect(res.status, `${json(body)} → ${res.text.slice(0, 200)}`).toBe(200);
      expect(res.ms).toBeLessThan(5000);
    }
  });

  it('event timestamps', async () => {
    const at = (timestamp: unknown) => post(EVENTS, { event: { ...spanStart('rejected-4', 'ts'), timestamp } });
    await runCases([
      { name: 'not a date', req: at('not-a-date'), status: 400, message: /event\.timestamp: expected ISO 8601 timestamp string or epoch milliseconds, got "not-a-date"/ },
      { name: 'February 30th', req: at('2024-02-30T00:00:00Z'), status: 400, message: /event\.timestamp: expected/ },
      { name: 'hour 25', req: at('2024-01-01T25:00:00Z'), status: 400, message: /event\.timestamp: expected/ },
      { name: 'epoch ms beyond the exact range', req: at(1e20), status: 400, message: /event\.timestamp: expected/ },
      { name: 'an empty string', req: at(''), status: 400, message: /event\.timestamp: expected/ },
      { name: 'an array', req: at([2024, 1, 1]), status: 400, message: /event\.timestamp: expected/ },
      { name: 'msgpack NaN', req: post(EVENTS, msgpack({ event: { ...spanStart('rejected-4', 'ts'), timestamp: NaN } }), 'application/msgpack'), status: 400, message: /event\.timestamp: expected/ },
      { name: 'msgpack Infinity', req: post(EVENTS, msgpack({ event: { ...spanStart('rejected-4', 'ts'), timestamp: Infinity } }), 'application/msgpack'), status: 400, message: /event\.timestamp: expected/ },
      { name: 'series timestamp NaN', req: post(EVENTS, msgpack({ series: [{ metric: 'm', labels: {}, timestamps: new Float64Array([NaN]), values: new Float64Array([1]) }] }), 'application/msgpack'), status: 400, message: /series\[0\]\.timestamps\[0\]: expected epoch milliseconds within/ },
    ]);
    await expectTraceAbsent('rejected-4');
  });
});

describe('catastrophic regexes', () => {
  it('(a+)+$ against long label values answers in linear time (RE2)', async () => {
    // 50,000 × "a" then "!" is hopeless for a backtracking engine (2^50000 paths) and linear for RE2.
    const evil = 'a'.repeat(50_000) + '!';
    const ingest = await send(suite.server.url, post(EVENTS, msgpack({
      series: [{ metric: 'redos_probe', labels: { path: evil }, timestamps: [Date.now() - 1000], values: [1] }],
      ttl_seconds: 3600,
    }), 'application/msgpack'));
    expect(ingest.status, ingest.text).toBe(200);
    for (const pattern of ['(a+)+$', '(a|a)+$', '(a*)*b', '(a|aa)+!x', '(.*a){20}']) {
      const res = await send(suite.server.url, post('/v1/telemetry/metrics/redos_probe', {
        start_time: 0, granularity: null, label_matchers: [{ name: 'path', value: pattern, operator: '=~' }],
      }));
      expect(res.status, res.text).toBe(200);
      expect(res.ms, pattern).toBeLessThan(5000);
      const neg = await send(suite.server.url, post('/v1/telemetry/metrics/redos_probe', {
        start_time: 0, granularity: null, label_matchers: [{ name: 'path', value: pattern, operator: '!~' }],
      }));
      expect(neg.status).toBe(200);
      expect((neg.json as { data: unknown[] }).data).toHaveLength(1);
    }
    await runCases([
      { name: 'backreference (not RE2)', req: post('/v1/telemetry/metrics/redos_probe', { start_time: 0, label_matchers: [{ name: 'path', value: '(a)\\1', operator: '=~' }] }), status: 400, message: /label_matchers: invalid regular expression/ },
      { name: 'lookahead (not RE2)', req: post('/v1/telemetry/metrics/redos_probe', { start_time: 0, label_matchers: [{ name: 'path', value: '(?=a)a', operator: '=~' }] }), status: 400, message: /label_matchers: invalid regular expression/ },
      { name: 'unbalanced', req: post('/v1/telemetry/metrics/redos_probe', { start_time: 0, label_matchers: [{ name: 'path', value: '((a)', operator: '!~' }] }), status: 400, message: /label_matchers: invalid regular expression/ },
      { name: 'counted repetitions that expand', req: post('/v1/telemetry/metrics/redos_probe', { start_time: 0, label_matchers: [{ name: 'path', value: '[a-z]{0,1000}'.repeat(12), operator: '=~' }] }), status: 400, message: /label_matchers: regular expression .* is too complex: its repetitions expand to about \d+ instructions, more than 20000/ },
      { name: 'a program too big for a 50k value', req: post('/v1/telemetry/metrics/redos_probe', { start_time: 0, label_matchers: [{ name: 'path', value: '(.*a){1000}', operator: '=~' }] }), status: 400, message: /label_matchers: regular expression "\(\.\*a\)\{1000\}" is too expensive for a label value of 50001 characters/ },
      { name: 'repeat count over 1000', req: post('/v1/telemetry/metrics/redos_probe', { start_time: 0, label_matchers: [{ name: 'path', value: 'a{1001}', operator: '=~' }] }), status: 400, message: /label_matchers: invalid regular expression/ },
    ]);
  });

  it('PromQL regexes, when /api/v1/query is served', async (ctx) => {
    const probe = await send(suite.server.url, { method: 'GET', path: '/api/v1/query?query=1' });
    if (probe.status === 404) {
      console.warn('hostile: /api/v1/query is not served yet; the PromQL regex cases are skipped');
      ctx.skip('/api/v1/query is not served yet (PromQL HTTP routes not landed)');
      return;
    }
    const nowS = Math.floor(Date.now() / 1000);
    for (const query of ['redos_probe{path=~"(a+)+$"}', 'count(redos_probe{path!~"(a|a)+$"})', '{__name__=~"(r+)+$"}', 'label_replace(redos_probe, "x", "$1", "path", "(a*)*b")']) {
      for (const path of [`/api/v1/query?query=${encodeURIComponent(query)}&time=${nowS}`,
        `/api/v1/query_range?query=${encodeURIComponent(query)}&start=${nowS - 600}&end=${nowS}&step=15`]) {
        const res = await send(suite.server.url, { method: 'GET', path });
        expect(res.status, `${path} → ${res.text.slice(0, 200)}`).toBeLessThan(500);
        expect(res.ms, path).toBeLessThan(5000);
      }
    }
    const promql = (path: string, params: Record<string, string>): RequestSpec =>
      ({ method: 'POST', path, body: new URLSearchParams(params).toString(), contentType: 'application/x-www-form-urlencoded' });
    const q = (query: string) => promql('/api/v1/query', { query, time: String(nowS) });
    await runCases([
      { name: 'backreference', req: q('x{a=~"(a)\\\\1"}'), status: 400, message: /invalid parameter "query": .*parse error: .*invalid escape sequence/ },
      { name: 'expanding repetitions', req: q(`x{a=~"${'[a-z]{0,1000}'.repeat(12)}"}`), status: 400, message: /invalid parameter "query": .*regular expression .* is too complex/ },
      { name: 'program too big for a 50k value', req: q('redos_probe{path=~"(.*a){1000}"}'), status: 400, message: /regular expression "\(\.\*a\)\{1000\}" is too expensive for a label value of 50001 characters/ },
      { name: 'label_replace with expanding repetitions', req: q(`label_replace(vector(1), "a", "$1", "b", "${'[a-z]{0,1000}'.repeat(12)}")`), status: 422, message: /invalid regular expression in label_replace\(\)/ },
      { name: '100k nested parentheses', req: q('('.repeat(100_000) + '1' + ')'.repeat(100_000)), status: 400, message: /query of 200001 characters is too long: the limit is 65536/ },
      { name: '3k nested parentheses', req: q('('.repeat(3000) + '1' + ')'.repeat(3000)), status: 400, message: /parse error/ },
      { name: 'unknown function', req: q('frobnicate(x)'), status: 400, message: /parse error: unknown function with name "frobnicate"/ },
      { name: 'bad duration', req: q('rate(x[5x])'), status: 400, message: /parse error/ },
      { name: 'bad time', req: promql('/api/v1/query', { query: 'x', time: 'yesterday' }), status: 400, message: /invalid parameter "time": .*cannot parse "yesterday" to a valid timestamp/ },
      { name: 'bad step', req: promql('/api/v1/query_range', { query: 'x', start: '0', end: '100', step: '1x' }), status: 400, message: /invalid parameter "step": cannot parse "1x" to a valid duration/ },
      { name: 'negative step', req: promql('/api/v1/query_range', { query: 'x', start: '0', end: '100', step: '-5' }), status: 400, message: /zero or negative query resolution step widths are not accepted/ },
      { name: 'too many points', req: promql('/api/v1/query_range', { query: 'x', start: '0', end: '1e9', step: '1' }), status: 400, message: /exceeded maximum resolution of 11,000 points per timeseries/ },
      { name: 'end before start', req: promql('/api/v1/query_range', { query: 'x', start: '100', end: '0', step: '1' }), status: 400, message: /end timestamp must not be before start time/ },
      { name: 'series without match[]', req: { method: 'GET', path: '/api/v1/series' }, status: 400, message: /no match\[\] parameter provided/ },
      { name: 'series with a huge selector', req: promql('/api/v1/series', { 'match[]': `{a=~"${'x'.repeat(70_000)}"}` }), status: 400, message: /too long/ },
    ]);  });
});

describe('dataset ids that try to leave the datasets directory', () => {
  it('.., /, %2F, absolute paths, NUL: refused or not found, never outside', async () => {
    const exportBody = (dataset_id: string) => post('/v1/telemetry/spans/export', { attribute_filters: [], attributes_to_save: [], dataset_id });
    const badId = /dataset_id: expected 1-128 characters of A-Z a-z 0-9 \. _ - \(and not "\." or "\.\."\)/;
    await runCases([
      ...['..', '.', '../escape', 'a/b', '/etc/passwd', '..\\x', 'a%2Fb', '', 'x'.repeat(129), 'nul\u0000byte', 'sp ace'].map((id) => ({
        name: `export to ${JSON.stringify(id)}`, req: exportBody(id), status: 400, message: badId,
      })),
    ]);
    for (const id of ['..', '%2e%2e', '..%2F..%2Fsegments', '%2E%2E%2F%2E%2E%2Fwal', 'a%2Fb', '%2Fetc%2Fpasswd', '.', '%00', '..%5C..%5Cwal']) {
      const res = await send(suite.server.url, { method: 'GET', path: `/v1/datasetio/iterrows/${id}` });
      expect([400, 404], `${id} → ${res.status} ${res.text}`).toContain(res.status);
      expect(res.text).toMatch(/dataset/);
      expect(res.text).not.toMatch(/PAR1|"data":\[\{/);
    }
  });
});

describe('unknown routes and methods', () => {
  it('404 names the route, 405 lists the allowed methods', async () => {
    await runCases([
      { name: 'unknown path', req: { method: 'GET', path: '/v2/telemetry/traces' }, status: 404, message: /route not found: GET \/v2\/telemetry\/traces/ },
      { name: 'unknown POST', req: post('/v1/telemetry/everything', {}), status: 404, message: /route not found: POST/ },
      { name: 'traversal in the path', req: { method: 'GET', path: '/ui/..%2F..%2Fpackage.json' }, status: 404, message: /not found/ },
      { name: 'wrong method on a query', req: { method: 'GET', path: '/v1/telemetry/traces' }, status: 405, message: /method not allowed: GET \/v1\/telemetry\/traces \(allowed: POST\)/ },
      { name: 'DELETE a trace', req: { method: 'DELETE', path: '/v1/telemetry/traces/baseline-trace' }, status: 405, message: /method not allowed: DELETE .*allowed: GET/ },
      { name: 'PUT events', req: { method: 'PUT', path: '/v1/telemetry/events', body: '{}' }, status: 405, message: /allowed: POST/ },
      { name: 'PATCH metrics', req: { method: 'PATCH', path: '/metrics' }, status: 405, message: /allowed: GET/ },
    ]);
    const res = await send(suite.server.url, { method: 'DELETE', path: '/v1/telemetry/traces/baseline-trace' });
    expect(res.headers.get('allow')).toBe('GET');
  });
});
