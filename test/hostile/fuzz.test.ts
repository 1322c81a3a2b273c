/**
 * Property tests over EVERY route the real server serves (listed from `server.routes()`, so a
 * route added later is fuzzed too): random JSON and msgpack values, random bytes, valid
 * bodies truncated or with bytes flipped, valid bodies with one field replaced by anything,
 * hostile path parameters and query strings. Each answer is < 500, carries a message when it
 * is an error, and comes within the time bound; after each route the server is healthy and
 * the baseline answers exactly as before. For the ingest routes, a rejected batch leaves no
 * trace of itself.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import {
  baselineSnapshot, expectHandled, expectHealthy, json, msgpack, pathFor, send, serverWithBaseline, type RequestSpec,
} from './helpers.ts';

const RUNS = Number(process.env.STRATA_FUZZ_RUNS ?? 25);

const suite = serverWithBaseline(['--body-limit-bytes', '1MiB']);

let counter = 0;
const nowIso = () => new Date().toISOString();

/** A valid body for each POST route (fresh ids each time, so a rejected ingest can be looked for). */
function validBody(pattern: string, traceId: string): Record<string, unknown> {
  switch (pattern) {
    case '/v1/telemetry/events':
    case '/alpha/telemetry/log-event':
      return {
        events: [
          { type: 'structured_log', trace_id: traceId, span_id: `${traceId}-a`, timestamp: nowIso(), attributes: { k: 1 }, payload: { type: 'span_start', name: 'fuzz' } },
          { type: 'metric', trace_id: traceId, span_id: `${traceId}-a`, timestamp: nowIso(), metric: 'fuzz_metric', value: 1, unit: 'u', attributes: { k: 'v' } },
          { type: 'unstructured_log', trace_id: traceId, span_id: `${traceId}-a`, timestamp: nowIso(), message: 'hi', severity: 'info' },
          { type: 'structured_log', trace_id: traceId, span_id: `${traceId}-a`, timestamp: nowIso(), payload: { type: 'span_end', status: 'ok' } },
        ],
        ttl_seconds: 3600,
      };
    case '/v1/telemetry/traces':
    case '/alpha/telemetry/query-traces':
      return { attribute_filters: [{ key: 'k', op: 'eq', value: 1 }], limit: 10, offset: 0, order_by: ['-start_time'] };
    case '/v1/telemetry/spans/:span_id/tree':
      return { attributes_to_return: ['k'], max_depth: 3 };
    case '/alpha/telemetry/get-span-tree':
      return { span_id: 'baseline-span-0', attributes_to_return: ['step'], max_depth: 2 };
    case '/v1/telemetry/spans':
      return { attribute_filters: [{ key: 'model', op: 'eq', value: 'llama' }], attributes_to_return: ['step'], max_depth: 2 };
    case '/v1/telemetry/spans/export':
      return { attribute_filters: [{ key: 'k', op: 'eq', value: 1 }], attributes_to_save: ['k'], dataset_id: `fuzz-${traceId}` };
    case '/v1/telemetry/metrics/:metric_name':
      return { start_time: 0, granularity: '1h', query_type: 'range', label_matchers: [{ name: 'k', value: 'v.*', operator: '=~' }] };
    case '/v1/traces': {
      const hexTrace = Buffer.from(traceId.padEnd(16, '0').slice(0, 16)).toString('hex');
      return {
        resourceSpans: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] },
          scopeSpans: [{ spans: [{ traceId: hexTrace, spanId: 'aaaaaaaaaaaaaaaa', name: 'op', startTimeUnixNano: String(Date.now() * 1e6), endTimeUnixNano: String(Date.now() * 1e6 + 1000), attributes: [] }] }],
        }],
      };
    }
    case '/v1/metrics':
      return {
        resourceMetrics: [{
          scopeMetrics: [{ metrics: [{ name: 'fuzz_otlp', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: String(Date.now() * 1e6), attributes: [] }] } }] }],
        }],
      };
    default:
      return {};
  }
}

const INGEST = new Set(['/v1/telemetry/events', '/alpha/telemetry/log-event']);

/** Replaces the value at a random path of `value` with `replacement`. */
function replaceAt(value: unknown, pick: number, replacement: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  target[path[path.length - 1]!] = replacement;
  return copy;
}

type Encoded = { body: string | Uint8Array; contentType: string };

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ maxLength: 300 }),
  fc.constantFrom(null, true, -1, 0, 1e308, -1e308, 2 ** 53, Number.MIN_VALUE, '', '..', '../../etc/passwd', '%2F', '(a+)+$', '\u0000', '\ud800', 'x'.repeat(5000)),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
);

/** Bodies for a POST route: the `valid` body mangled every way, or anything at all. */
function hostileBody(pattern: string): fc.Arbitrary<{ encoded: Encoded; traceId: string }> {
  const withTrace = <T,>(arb: fc.Arbitrary<T>, make: (t: T, traceId: string) => Encoded) =>
    arb.map((t) => {
      const traceId = `fuzz${++counter}x${Math.random().toString(36).slice(2, 8)}`;
      return { encoded: make(t, traceId), traceId };
    });
  const asJson = (v: unknown): Encoded => ({ body: json(v) ?? 'null', contentType: 'application/json' });
  const asMsgpack = (v: unknown): Encoded => ({ body: msgpack(v), contentType: 'application/msgpack' });
  return fc.oneof(
    // Anything, as JSON and as msgpack.
    withTrace(fc.jsonValue({ maxDepth: 6 }), (v) => asJson(v)),
    withTrace(fc.anything({ maxDepth: 4, withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true, withMap: true, withSet: true }), (v) => {
      try {
        return asMsgpack(v);
      } catch {
        return asMsgpack(null);
      }
    }),
    // Random bytes under either content type.
    withTrace(fc.uint8Array({ maxLength: 600 }), (bytes) => ({ body: bytes, contentType: 'application/msgpack' })),
    withTrace(fc.uint8Array({ maxLength: 600 }), (bytes) => ({ body: bytes, contentType: 'application/json' })),
    // A valid body truncated.
    withTrace(fc.tuple(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true })), ([mp, cut], traceId) => {
      const enc = mp ? asMsgpack(validBody(pattern, traceId)) : asJson(validBody(pattern, traceId));
      const bytes = typeof enc.body === 'string' ? Buffer.from(enc.body) : enc.body;
      return { body: bytes.subarray(0, Math.floor(bytes.length * cut)), contentType: enc.contentType };
    }),
    // A valid body with bytes flipped.
    withTrace(fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })), ([mp, flips], traceId) => {
      const enc = mp ? asMsgpack(validBody(pattern, traceId)) : asJson(validBody(pattern, traceId));
      const bytes = Uint8Array.from(typeof enc.body === 'string' ? Buffer.from(enc.body) : enc.body);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      return { body: bytes, contentType: enc.contentType };
    }),
    // A valid body with one field (or the whole body) replaced by anything.
    withTrace(fc.tuple(fc.boolean(), fc.nat(), anyValue), ([mp, pick, replacement], traceId) => {
      const mangled = replaceAt(validBody(pattern, traceId), pick, replacement);
      return mp ? asMsgpack(mangled) : asJson(mangled);
    }),
    // A valid body with unknown fields and event types sprinkled in.
    withTrace(fc.tuple(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })), ([key, value], traceId) => {
      const body = validBody(pattern, traceId) as Record<string, unknown>;
      body[key || 'extra'] = value;
      if (Array.isArray(body.events)) (body.events as Record<string, unknown>[])[0]!.type = key || 'mystery';
      return asJson(body);
    }),
  );
}

/** Path parameters and query strings: dot segments, encoded slashes, NULs, huge values. */
const hostileParam = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('..', '.', '%2e%2e', '..%2F..%2Fwal', '%2F', '%00', '%ff', '%', '%zz', 'x'.repeat(8000), 'baseline-span-0', 'baseline-trace', '%F0%9F%92%A9'),
);
const hostileQuery = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('limit', 'start_index', 'query', 'time', 'start', 'end', 'step', 'match[]', 'x'), hostileParam, { maxKeys: 4 })
    .map((d) => '?' + Object.entries(d).map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')),
);

/** Routes answered by the harness: every route `server.routes()` lists. */
function routes(): { method: string; pattern: string }[] {
  return suite.server.server.routes().map((r) => ({ method: r.method, pattern: r.pattern }));
}

describe('every route survives random and mangled requests', () => {
  it('lists the routes it fuzzes (all of them)', () => {
    const list = routes();
    expect(list.length).toBeGreaterThan(20);
    expect(list.map((r) => `${r.method} ${r.pattern}`)).toEqual(expect.arrayContaining([
      'POST /v1/telemetry/events', 'POST /v1/telemetry/traces', 'GET /v1/telemetry/traces/:trace_id', 'POST /v1/telemetry/metrics/:metric_name',
      'GET /v1/datasetio/iterrows/:dataset_id', 'POST /v1/traces', 'GET /health',
    ]));
  });

  it('POST routes: random, truncated, flipped and mangled bodies', async () => {
    const posts = routes().filter((r) => r.method === 'POST');
    for (const route of posts) {
      await fc.assert(
        fc.asyncProperty(hostileBody(route.pattern), hostileParam, async ({ encoded, traceId }, param) => {
          const spec: RequestSpec = { method: 'POST', path: pathFor(route.pattern, param), body: encoded.body, contentType: encoded.contentType };
          const answer = await send(suite.server.url, spec);
          expectHandled(answer, `POST ${spec.path} (${encoded.contentType}, ${encoded.body.length} bytes)`);
          if (INGEST.has(route.pattern) && answer.status >= 400) {
            // Nothing of a rejected batch is applied.
            const trace = await send(suite.server.url, { method: 'GET', path: `/v1/telemetry/traces/${traceId}` });
            expect(trace.status, `trace ${traceId} of a rejected batch (${answer.text.slice(0, 200)})`).toBe(404);
          }
        }),
        { numRuns: RUNS },
      );
      await expectHealthy(suite.server.url);
      expect(await baselineSnapshot(suite.server.url), `baseline after fuzzing POST ${route.pattern}`).toEqual(suite.before);
    }
  });

  it('GET routes: hostile path parameters and query strings', async () => {
    const gets = routes().filter((r) => r.method === 'GET');
    for (const route of gets) {
      await fc.assert(
        fc.asyncProperty(hostileParam, hostileQuery, async (param, query) => {
          const path = pathFor(route.pattern, param) + query;
          expectHandled(await send(suite.server.url, { method: 'GET', path }), `GET ${path.slice(0, 200)}`);
        }),
        { numRuns: RUNS },
      );
      await expectHealthy(suite.server.url);
    }
    expect(await baselineSnapshot(suite.server.url)).toEqual(suite.before);
  });

  it('any route with any method, and paths no route has', async () => {
    const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
    const paths = fc.oneof(
      fc.constantFrom(...routes().map((r) => r.pattern)).chain((p) => hostileParam.map((x) => pathFor(p, x))),
      fc.webPath().filter((p) => p.length > 0),
      fc.array(hostileParam, { minLength: 1, maxLength: 6 }).map((parts) => '/' + parts.join('/')),
    );
    await fc.assert(
      fc.asyncProperty(methods, paths, async (method, path) => {
        const answer = await send(suite.server.url, { method, path: path.startsWith('/') ? path : `/${path}` });
        expectHandled(answer, `${method} ${path.slice(0, 200)}`);
      }),
      { numRuns: RUNS * 8 },
    );
    await expectHealthy(suite.server.url);
    expect(await baselineSnapshot(suite.server.url)).toEqual(suite.before);
  });
});

describe('the WebSocket ingest stream', () => {
  it('answers every hostile message with an ack or an error, in order, and stays open', async () => {
    const ws = new WebSocket(`${suite.server.url.replace('http', 'ws')}/v1/telemetry/stream`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const replies: unknown[] = [];
    let closed: string | null = null;
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));
    ws.on('close', (code, reason) => { closed = `${code} ${String(reason)}`; });
    const messages = fc.sample(hostileBody('/v1/telemetry/events'), RUNS * 4);
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    for (const { encoded } of messages) {
      // A text frame must be UTF-8 (RFC 6455: the server closes with 1007 otherwise): other bytes go as binary.
      let text: string | null = null;
      if (encoded.contentType === 'application/json') {
        try {
          text = typeof encoded.body === 'string' ? encoded.body : utf8.decode(encoded.body);
        } catch {
          text = null;
        }
      }
      if (text !== null) ws.send(text);
      else ws.send(encoded.body, { binary: true });
    }
    const deadline = Date.now() + 10_000;
    while (replies.length < messages.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBeNull();
    expect(replies).toHaveLength(messages.length);
    for (const reply of replies) {
      const r = reply as { ok?: number; error?: string };
      expect(typeof r.ok === 'number' || (typeof r.error === 'string' && r.error.length > 0), JSON.stringify(r)).toBe(true);
      expect(r.error ?? '').not.toMatch(/internal server error/);
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await expectHealthy(suite.server.url);
    expect(await baselineSnapshot(suite.server.url)).toEqual(suite.before);
  });
});
