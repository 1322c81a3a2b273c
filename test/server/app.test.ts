import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/server/errors.ts';
import { ok, prometheusErrorFormat, type RouteRequest } from '../../src/server/http.ts';
import { queryAndFormParams } from '../../src/server/request.ts';
import { BodySlots } from '../../src/telemetry/body-slots.ts';
import { delay, parseRawResponse, rawExchange, sendAndVanish, startTestServer, type TestServer } from './helpers.ts';

const LIMIT = 1024;

function echo(request: RouteRequest) {
  return ok({
    method: request.method,
    path: request.path,
    params: request.params,
    query: [...request.query],
    contentType: request.contentType,
    header: request.headers['x-custom'] ?? null,
  });
}

describe('createServer', () => {
  let t: TestServer;
  /** Room the /slotted route reads bodies into (a route's BodyBuffers). */
  const slots = new BodySlots(2, 512);
  const bodyBuffers = { take: (n: number) => slots.take(n), release: (b: Uint8Array) => slots.release(b) };
  let handlerCalls = 0;
  let slowStarted: () => void = () => {};

  beforeAll(async () => {
    t = await startTestServer((server) => {
      server.route('GET', '/v1/telemetry/traces/:trace_id/spans/:span_id', echo);
      server.route('GET', '/items/:id', echo);
      server.route('DELETE', '/items/:id', echo);
      server.route('POST', '/decode', (request) => {
        handlerCalls++;
        return ok({ decoded: request.decodeBody() ?? 'no body' });
      });
      server.route('POST', '/json', (request) => ok({ decoded: request.json() ?? 'no body' }));
      server.route('POST', '/form', (request) => ok(Object.fromEntries(queryAndFormParams(request))));
      server.route('POST', '/slotted', (request) => {
        const body = request.body;
        const inSlot = body !== undefined && body !== null && slots.slotOf(body) >= 0;
        const text = body ? Buffer.from(body).toString() : '';
        if (body) slots.release(body);
        return ok({ inSlot, text });
      }, { bodyBuffers });
      server.route('POST', '/big', (request) => ok({ bytes: request.body?.byteLength ?? 0 }), { bodyLimitBytes: 4 * LIMIT });
      server.route('GET', '/boom', () => { throw new Error('secret at /etc/internal/path'); });
      server.route('GET', '/not-found', () => { throw new ApiError(404, 'trace not found: abc'); });
      server.route('GET', '/bigint', () => ok({ n: 1n }));
      server.route('GET', '/text', () => ({ status: 201, raw: 'plain', contentType: 'text/plain', headers: { 'x-extra': '1' } }));
      server.route('GET', '/slow', async () => {
        slowStarted();
        await delay(300);
        return ok('done');
      });
      server.route('GET', '/api/v1/query', () => { throw new ApiError(400, 'parse error at char 3'); }, { errorFormat: prometheusErrorFormat });
    }, { bodyLimitBytes: LIMIT, bodyTimeoutMs: 300 });
  });

  afterAll(() => t.close());

  describe('routing', () => {
    it('passes path parameters, query string and headers to the handler', async () => {
      const response = await fetch(`${t.url}/v1/telemetry/traces/t1/spans/s%2F2?limit=5&tag=a&tag=b%20c`, { headers: { 'X-Custom': 'yes' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({
        method: 'GET',
        path: '/v1/telemetry/traces/t1/spans/s%2F2',
        params: { trace_id: 't1', span_id: 's/2' },
        query: [['limit', '5'], ['tag', 'a'], ['tag', 'b c']],
        contentType: '',
        header: 'yes',
      });
    });

    it('routes the same pattern by method', async () => {
      const response = await fetch(`${t.url}/items/7`, { method: 'DELETE' });
      expect(await response.json()).toMatchObject({ method: 'DELETE', params: { id: '7' } });
    });

    it('answers an unknown route with 404 in the Llama Stack error shape', async () => {
      const response = await fetch(`${t.url}/nowhere?x=1`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { detail: 'route not found: GET /nowhere' } });
    });

    it('answers a known path with the wrong method with 405 and Allow', async () => {
      const response = await fetch(`${t.url}/items/7`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, DELETE');
      expect(await response.json()).toEqual({ error: { detail: 'method not allowed: POST /items/7 (allowed: GET, DELETE)' } });
    });

    it('refuses to register a route twice', () => {
      expect(() => t.server.route('GET', '/items/:id', echo)).toThrow(/twice/);
    });

    it('lists its routes', () => {
      expect(t.server.routes()).toContainEqual({ method: 'DELETE', pattern: '/items/:id' });
    });
  });

  describe('responses', () => {
    it('writes raw responses with their content type, status and headers', async () => {
      const response = await fetch(`${t.url}/text`);
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toBe('text/plain');
      expect(response.headers.get('x-extra')).toBe('1');
      expect(await response.text()).toBe('plain');
    });

    it('sends CORS headers and answers preflights', async () => {
      expect((await fetch(`${t.url}/items/1`)).headers.get('access-control-allow-origin')).toBe('*');
      const preflight = await fetch(`${t.url}/items/1`, { method: 'OPTIONS' });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, DELETE, OPTIONS');
    });
  });

  describe('bodies', () => {
    it('decodes JSON', async () => {
      const response = await fetch(`${t.url}/decode`, { method: 'POST', body: JSON.stringify({ a: [1, 2] }), headers: { 'content-type': 'application/json' } });
      expect(await response.json()).toEqual({ decoded: { a: [1, 2] } });
    });

    it('decodes msgpack when the content type says so', async () => {
      const body = new Uint8Array(pack({ metric: 'tokens', values: [1, 2.5], at: 'now' }));
      for (const contentType of ['application/msgpack', 'application/x-msgpack; charset=binary']) {
        const response = await fetch(`${t.url}/decode`, { method: 'POST', body, headers: { 'content-type': contentType } });
        expect(await response.json()).toEqual({ decoded: { metric: 'tokens', values: [1, 2.5], at: 'now' } });
      }
    });

    it('gives handlers undefined for a missing body', async () => {
      const response = await fetch(`${t.url}/decode`, { method: 'POST' });
      expect(await response.json()).toEqual({ decoded: 'no body' });
    });

    it('answers malformed JSON with 400 and the parser detail', async () => {
      const response = await fetch(`${t.url}/json`, { method: 'POST', body: '{"a":' });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { detail: string } };
      expect(error.detail).toMatch(/^malformed JSON body: .+/);
    });

    it('answers malformed msgpack with 400 and the decoder detail', async () => {
      for (const bytes of [[0x92, 0x01], [0xc1]]) {
        const response = await fetch(`${t.url}/decode`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'application/msgpack' } });
        expect(response.status).toBe(400);
        const { error } = (await response.json()) as { error: { detail: string } };
        expect(error.detail).toMatch(/^malformed msgpack body: .+/);
      }
    });

    it('merges form-encoded bodies with the query string', async () => {
      const response = await fetch(`${t.url}/form?time=1`, {
        method: 'POST',
        body: new URLSearchParams({ query: 'up{job="x"}', 'match[]': 'a' }),
      });
      expect(await response.json()).toEqual({ time: '1', query: 'up{job="x"}', 'match[]': 'a' });
    });

    it('reads a chunked body', async () => {
      const response = await fetch(`${t.url}/decode`, {
        method: 'POST',
        body: streamOf(['{"a":', '1}']),
        duplex: 'half',
      } as RequestInit);
      expect(await response.json()).toEqual({ decoded: { a: 1 } });
    });

    it('answers 413 before reading a body whose Content-Length is over the limit', async () => {
      const callsBefore = handlerCalls;
      const response = await fetch(`${t.url}/decode`, { method: 'POST', body: 'x'.repeat(LIMIT + 1) });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: { detail: `request body exceeds the limit of ${LIMIT} bytes` } });
      expect(handlerCalls).toBe(callsBefore);
    });

    it('answers 413 as soon as a chunked body crosses the limit', async () => {
      const chunk = 'x'.repeat(600);
      const chunked = `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(2);
      const raw = await rawExchange(t.port, `POST /decode HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`);
      const response = parseRawResponse(raw);
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: { detail: `request body exceeds the limit of ${LIMIT} bytes` } });
    });

    it('lets a route raise its own body limit', async () => {
      const response = await fetch(`${t.url}/big`, { method: 'POST', body: 'x'.repeat(2 * LIMIT) });
      expect(await response.json()).toEqual({ bytes: 2 * LIMIT });
    });

    it('answers 408 when the body does not arrive in time', async () => {
      const raw = await rawExchange(t.port, 'POST /decode HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":');
      const response = parseRawResponse(raw);
      expect(response.status).toBe(408);
      expect(response.body).toEqual({ error: { detail: 'request body not complete within 0.3 seconds' } });
    });

    it('reads a body into the room its route offers, and takes the room back when the body never completes', async () => {
      const response = await fetch(`${t.url}/slotted`, { method: 'POST', body: 'hello slot' });
      expect(await response.json()).toEqual({ inSlot: true, text: 'hello slot' });
      expect(slots.inUse).toBe(0);
      // Too big for a slot: a buffer of its own.
      const big = await fetch(`${t.url}/slotted`, { method: 'POST', body: 'y'.repeat(LIMIT) });
      expect(slots.inUse).toBe(0);
      expect(await big.json()).toEqual({ inSlot: false, text: 'y'.repeat(LIMIT) });
      // 408 and a vanished client: the slot is released, not leaked.
      const raw = await rawExchange(t.port, 'POST /slotted HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
      expect(parseRawResponse(raw).status).toBe(408);
      await sendAndVanish(t.port, 'POST /slotted HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nabc', 50);
      await delay(50);
      expect(slots.inUse).toBe(0);
    });

    it('survives a client vanishing mid-body and keeps serving', async () => {
      const callsBefore = handlerCalls;
      await sendAndVanish(t.port, 'POST /decode HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"a":', 50);
      await delay(50);
      expect(t.server.inFlight()).toBe(0);
      expect(handlerCalls).toBe(callsBefore);
      expect((await fetch(`${t.url}/items/1`)).status).toBe(200);
    });

    it('does not write to a response whose client left while the handler ran', async () => {
      const started = new Promise<void>((resolve) => { slowStarted = resolve; });
      const vanished = sendAndVanish(t.port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n', 10);
      await started;
      await vanished;
      await delay(400);
      expect(t.server.inFlight()).toBe(0);
      expect((await fetch(`${t.url}/items/1`)).status).toBe(200);
    });
  });

  describe('errors', () => {
    it('answers an ApiError with its status and detail', async () => {
      const response = await fetch(`${t.url}/not-found`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { detail: 'trace not found: abc' } });
    });

    it('answers any other exception with a bare 500', async () => {
      const response = await fetch(`${t.url}/boom`);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: { detail: 'internal server error' } });
      expect(text).not.toMatch(/secret|\/etc|at /);
    });

    it('answers a body that cannot be serialised with a 500', async () => {
      const response = await fetch(`${t.url}/bigint`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: { detail: 'internal server error' } });
    });

    it('uses the route error format for Prometheus routes, 405 included', async () => {
      const bad = await fetch(`${t.url}/api/v1/query?query=1+`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' });
      const wrongMethod = await fetch(`${t.url}/api/v1/query`, { method: 'PUT' });
      expect(wrongMethod.status).toBe(405);
      expect(await wrongMethod.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    });
  });

  it('records per-route request counts and latencies', async () => {
    await fetch(`${t.url}/text`);
    const text = t.server.metrics.render();
    expect(text).toMatch(/^strata_http_requests_total\{route="GET \/text",status="201"\} [1-9]\d*$/m);
    expect(text).toMatch(/^strata_http_requests_total\{route="unmatched",status="404"\} [1-9]\d*$/m);
    expect(text).toMatch(/^strata_http_request_duration_seconds_bucket\{route="GET \/text",le="\+Inf"\} [1-9]\d*$/m);
    expect(text).toMatch(/^strata_http_request_duration_seconds_count\{route="GET \/text"\} [1-9]\d*$/m);
  });
});

describe('server lifecycle', () => {
  it('binds a free port when asked for port 0', async () => {
    const t = await startTestServer(() => {});
    expect(t.port).toBeGreaterThan(0);
    await t.close();
  });

  it('finishes in-flight requests before close() resolves, then refuses connections', async () => {
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => { started = resolve; });
    const t = await startTestServer((server) => {
      server.route('GET', '/slow', async () => {
        started();
        await delay(200);
        return ok('finished');
      });
    });
    const pending = fetch(`${t.url}/slow`);
    await handlerStarted;
    await t.close();
    const response = await pending;
    expect(await response.json()).toBe('finished');
    await expect(fetch(`${t.url}/slow`)).rejects.toThrow();
  });

  it('rejects listen() when the port is taken', async () => {
    const first = await startTestServer(() => {});
    await expect(startTestServer(() => {}, { port: first.port })).rejects.toThrow(/cannot listen/);
    await first.close();
  });
});

function streamOf(parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });
}
