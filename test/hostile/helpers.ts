/**
 * Shared by the hostile-input suites: a real server (in-process, free port, fresh data dir),
 * requests that record how long they took, the error message of any error shape the server
 * speaks (Llama Stack, OTLP, Prometheus), and a baseline of data whose answers must not
 * change while hostile requests are thrown at the server.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { Packr } from 'msgpackr';
import { startTestServer, type TestServer } from '../e2e/harness.ts';

export { startTestServer, type TestServer };

/** Generous: hostile requests must be answered promptly, but the machine is shared and noisy. */
export const TIME_BOUND_MS = 5000;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
  ms: number;
}

export interface RequestSpec {
  method: string;
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

export async function send(base: string, spec: RequestSpec): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { ...spec.headers };
  if (spec.body !== undefined) headers['content-type'] = spec.contentType ?? 'application/json';
  const res = await fetch(base + spec.path, {
    method: spec.method,
    headers,
    body: spec.body === undefined ? undefined : (spec.body as BodyInit),
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, ms };
}

/** The human-readable error of any of the server's error shapes (or a plain-text body), or undefined. */
export function errorMessage(json: unknown, text?: string): string | undefined {
  if (typeof json !== 'object' || json === null) return json === undefined && text ? text : undefined;
  const o = json as Record<string, unknown>;
  const llama = (o.error as { detail?: unknown } | undefined)?.detail;
  if (typeof llama === 'string') return llama;
  if (typeof o.error === 'string') return o.error; // Prometheus
  if (typeof o.message === 'string') return o.message; // OTLP google.rpc.Status
  return undefined;
}

/** The answer is the expected 4xx, carries a message naming the problem, and came within the time bound. */
export function expectRejected(answer: Answer, status: number, message: RegExp, what = ''): void {
  const label = `${what} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, label).toBe(status);
  expect(errorMessage(answer.json, answer.text), label).toMatch(message);
  expect(answer.ms, label).toBeLessThan(TIME_BOUND_MS);
}

/** Never a 5xx, never a stack trace; an error answer carries a message; within the time bound. */
export function expectHandled(answer: Answer, what: string): void {
  const label = `${what} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, label).toBeLessThan(500);
  expect(answer.ms, label).toBeLessThan(TIME_BOUND_MS);
  expect(answer.text, label).not.toMatch(/\n\s+at .+:\d+:\d+/);
  if (answer.status >= 400 && answer.status !== 405 && answer.status !== 404) {
    expect(errorMessage(answer.json, answer.text), label).toBeTruthy();
  }
}

export async function expectHealthy(base: string): Promise<void> {
  const res = await send(base, { method: 'GET', path: '/health' });
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ status: 'OK' });
}

// ---------------------------------------------------------------------------------------------
// The baseline: data written before the hostile requests, read back after each batch of them
// ---------------------------------------------------------------------------------------------

export const BASE_TRACE = 'baseline-trace';
export const BASE_METRIC = 'baseline_requests';
const NOW_MS = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

export function baselineEvents(): object[] {
  const events: object[] = [];
  for (let i = 0; i < 5; i++) {
    const span = `baseline-span-${i}`;
    events.push({
      type: 'structured_log', trace_id: BASE_TRACE, span_id: span, timestamp: iso(NOW_MS - 60_000 + i * 1000),
      attributes: { __root__: i === 0, step: i, model: 'llama' },
      payload: { type: 'span_start', name: `step-${i}`, parent_span_id: i === 0 ? null : 'baseline-span-0' },
    });
    events.push({
      type: 'structured_log', trace_id: BASE_TRACE, span_id: span, timestamp: iso(NOW_MS - 59_000 + i * 1000),
      payload: { type: 'span_end', status: i === 3 ? 'error' : 'ok' },
    });
    events.push({
      type: 'metric', trace_id: BASE_TRACE, span_id: span, timestamp: iso(NOW_MS - 60_000 + i * 1000),
      metric: BASE_METRIC, value: i + 1, unit: 'requests', attributes: { model: 'llama', region: i % 2 ? 'eu' : 'us' },
    });
  }
  return events;
}

export async function writeBaseline(base: string): Promise<void> {
  const res = await send(base, { method: 'POST', path: '/v1/telemetry/events', body: JSON.stringify({ events: baselineEvents(), ttl_seconds: 86_400 }) });
  expect(res.status, res.text).toBe(200);
}

/** Answers that must stay exactly the same while hostile requests come and go. */
export async function baselineSnapshot(base: string): Promise<unknown[]> {
  const startS = Math.floor(NOW_MS / 1000) - 3600;
  const q = (path: string, body: unknown) => send(base, { method: 'POST', path, body: JSON.stringify(body) }).then((a) => [a.status, a.json]);
  return Promise.all([
    send(base, { method: 'GET', path: `/v1/telemetry/traces/${BASE_TRACE}` }).then((a) => [a.status, a.json]),
    q('/v1/telemetry/spans/baseline-span-0/tree', {}),
    q('/v1/telemetry/traces', { attribute_filters: [{ key: 'model', op: 'eq', value: 'llama' }] }),
    q(`/v1/telemetry/metrics/${BASE_METRIC}`, { start_time: startS, end_time: startS + 7200, granularity: null }),
    q(`/v1/telemetry/metrics/${BASE_METRIC}`, { start_time: startS, end_time: startS + 7200, query_type: 'instant' }),
  ]);
}

/** A suite's server and the baseline answers it gave before any hostile request. */
export interface BaselineServer {
  server: TestServer;
  before: unknown[];
}

/**
 * Registers the suite's hooks: before all, a server started with `args`, the baseline written
 * and its answers recorded; after all, the server outlived everything thrown at it (healthy,
 * the baseline answers as it did), then it is cleaned up. The fields are set once beforeAll ran.
 */
export function serverWithBaseline(args: string[]): BaselineServer {
  const suite = {} as BaselineServer;
  beforeAll(async () => {
    suite.server = await startTestServer(args);
    await writeBaseline(suite.server.url);
    suite.before = await baselineSnapshot(suite.server.url);
  });
  afterAll(async () => {
    await expectHealthy(suite.server.url);
    expect(await baselineSnapshot(suite.server.url)).toEqual(suite.before);
    await suite.server?.cleanup();
  });
  return suite;
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

export function json(value: unknown): string {
  return JSON.stringify(value);
}

const packr = new Packr({ moreTypes: true });

/** msgpack as clients send it (typed arrays as msgpackr's typed-array extension). */
export function msgpack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** `depth` nested JSON arrays: `[[[…]]]`. */
export function deepJsonArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** `depth` nested msgpack fixarrays of one element, ending in nil. */
export function deepMsgpackArrays(depth: number): Uint8Array {
  const bytes = new Uint8Array(depth + 1).fill(0x91);
  bytes[depth] = 0xc0;
  return bytes;
}

/** A path for a route pattern, with every `:param` filled in. */
export function pathFor(pattern: string, param = 'x'): string {
  return pattern.replace(/:([A-Za-z_]+)/g, param);
}

// ---------------------------------------------------------------------------------------------
// Raw sockets: what fetch cannot do (announce a body and never send it, trickle bytes)
// ---------------------------------------------------------------------------------------------

export interface RawResult {
  status: number;
  head: string;
  body: string;
  ms: number;
  /** Body bytes written before the answer came. */
  bytesSent: number;
}

/**
 * Writes `head`, then `chunks` one every `intervalMs`, until the server answers (or closes);
 * resolves with what it answered. Gives up after `maxMs`.
 */
export function rawRequest(port: number, head: string, chunks: (string | Buffer)[], intervalMs: number, maxMs = 20_000): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let bytesSent = 0;
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      socket.destroy();
      const headerEnd = received.indexOf('\r\n\r\n');
      const statusMatch = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (!statusMatch) return reject(new Error(`no HTTP answer (got ${JSON.stringify(received.slice(0, 200))})`));
      resolve({
        status: Number(statusMatch[1]),
        head: received.slice(0, headerEnd).toLowerCase(),
        body: received.slice(headerEnd + 4),
        ms: performance.now() - started,
        bytesSent,
      });
    };
    const giveUp = setTimeout(finish, maxMs);
    const next = () => {
      if (i >= chunks.length || socket.destroyed) return;
      const chunk = chunks[i++]!;
      socket.write(chunk, () => undefined);
      bytesSent += Buffer.byteLength(chunk);
      timer = setTimeout(next, intervalMs);
    };
    socket.on('connect', () => {
      socket.write(head);
      next();
    });
    socket.on('data', (data) => {
      received += data.toString('latin1');
      const headerEnd = received.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = /content-length: *(\d+)/i.exec(received.slice(0, headerEnd));
      if (length && received.length - headerEnd - 4 >= Number(length[1])) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
  });
}
