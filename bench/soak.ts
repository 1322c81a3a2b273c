/**
 * Soak: the real server under a steady ingest rate and a query mix for a while, with short
 * TTLs so segments are sealed, flushed and expire throughout the run. It samples the server's
 * RSS (/proc/<pid>/status), heap and store gauges (/metrics), latency percentiles and errors
 * every few seconds into bench/results/soak.json, prints a table, and checks at the end:
 *
 * - memory plateaus: the last third's max RSS, V8 heap and ArrayBuffer bytes (the columnar
 *   data) against the middle third's, and the slope;
 * - latencies stay flat: the last third's p95 against the middle third's;
 * - zero errors;
 * - zero lost events: a second stream with a long TTL (traces, spans, metric events, series
 *   samples) is counted back exactly; the short-TTL stream's newest data is there and its
 *   oldest is gone (expired), and segments were dropped.
 *
 *   node --import tsx bench/soak.ts [--minutes 10] [--seconds N] [--sample-seconds 10]
 *     [--ttl-seconds 20] [--series 100] [--samples 20] [--out bench/results/soak.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { freePort } from './ingest/processes.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

interface Options {
  seconds: number;
  sampleSeconds: number;
  ttlSeconds: number;
  seriesPerBatch: number;
  samplesPerSeries: number;
  /** Each loop's period. */
  metricsEveryMs: number;
  spansEveryMs: number;
  verifyEveryMs: number;
  queryEveryMs: number;
  /** A new generation of series (new `pod` label values) this often: series churn. */
  churnSeconds: number;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq?.slice(name.length + 3);
  };
  const num = (name: string, dflt: number) => {
    const raw = get(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got ${raw}`);
    return n;
  };
  const seconds = get('seconds') !== undefined ? num('seconds', 0) : num('minutes', 10) * 60;
  return {
    seconds,
    sampleSeconds: num('sample-seconds', seconds >= 300 ? 10 : 5),
    ttlSeconds: num('ttl-seconds', 20),
    seriesPerBatch: num('series', 100),
    samplesPerSeries: num('samples', 20),
    metricsEveryMs: num('metrics-every-ms', 200),
    spansEveryMs: num('spans-every-ms', 200),
    verifyEveryMs: num('verify-every-ms', 1000),
    queryEveryMs: num('query-every-ms', 250),
    churnSeconds: num('churn-seconds', 30),
    out: get('out') ?? join(ROOT, 'bench/results/soak.json'),
  };
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

interface ServerProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  dataDir: string;
  stderr: () => string;
}

async function startServer(): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-soak-'));
  const port = await freePort();
  const child = spawn(process.execPath, [
    '--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir,
    '--segment-max-age-ms', '2000', '--retention-sweep-ms', '1000', '--log-level', 'warn',
  ], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before answering:\n${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not answer /health within 60 s');
    await sleep(100);
  }
  return { child, url, pid: child.pid!, dataDir, stderr: () => stderr };
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : NaN;
}

/** Gauges from the exposition text: `name` or `name{labels}` -> value; labelled series of one name are summed under `name`. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const key = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    out.set(key, value);
    const brace = key.indexOf('{');
    if (brace > 0) {
      const name = key.slice(0, brace);
      out.set(`${name}:sum`, (out.get(`${name}:sum`) ?? 0) + value);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

type Kind = 'ingest_series' | 'ingest_spans' | 'ingest_verify' | string;

class Window {
  latencies = new Map<Kind, number[]>();
  errors = 0;
  acked = { series: 0, samples: 0, spanBatches: 0, verifyBatches: 0 };

  record(kind: Kind, ms: number): void {
    let list = this.latencies.get(kind);
    if (!list) this.latencies.set(kind, (list = []));
    list.push(ms);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Sample {
  t: number;
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  arrayBuffersMB: number;
  series: number;
  spansIndexed: number;
  tracesIndexed: number;
  segments: number;
  headRows: number;
  segmentsDropped: number;
  segmentFiles: number;
  walMB: number;
  query: { n: number; p50: number; p95: number; p99: number; max: number };
  queryByKind: Record<string, { n: number; p50: number; p99: number }>;
  ingest: { n: number; p50: number; p99: number; max: number };
  samplesPerSec: number;
  errors: number;
}

const errorLog: string[] = [];

function noteError(what: string): void {
  if (errorLog.length < 50) errorLog.push(`${new Date().toISOString()} ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------------

const packr = new Packr({ moreTypes: true });
/** A msgpack request body (fetch's types want an ArrayBuffer-backed view; msgpackr's Buffer is one). */
const msgpackBody = (value: unknown) => packr.pack(value) as unknown as BodyInit;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString();

interface State {
  running: boolean;
  window: Window;
  startedAt: number;
  lastRoot: string | null;
  /** Short-TTL traces acknowledged: [trace id, ack time]. */
  shortTraces: [string, number][];
  verify: { traces: number; spans: number; events: number; samples: number };
  totals: { errors: number; requests: number; samples: number };
}

async function timed(state: State, kind: Kind, request: () => Promise<Response>): Promise<Response | null> {
  const started = performance.now();
  state.totals.requests++;
  try {
    const res = await request();
    const body = await res.text();
    state.window.record(kind, performance.now() - started);
    if (!res.ok) {
      state.window.errors++;
      state.totals.errors++;
      noteError(`${kind}: ${res.status} ${body.slice(0, 300)}`);
      return null;
    }
    return new Response(body, { status: res.status });
  } catch (error) {
    state.window.errors++;
    state.totals.errors++;
    noteError(`${kind}: ${(error as Error).message}`);
    return null;
  }
}

/** Runs `step` every `periodMs` (no overlap; a slow step delays the next) until the run ends. */
async function loop(state: State, periodMs: number, step: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; state.running; i++) {
    const started = performance.now();
    await step(i);
    const left = periodMs - (performance.now() - started);
    if (left > 0 && state.running) await sleep(left);
  }
}

function metricsLoop(url: string, o: Options, state: State): Promise<void> {
  return loop(state, o.metricsEveryMs, async () => {
    const now = Date.now();
    const generation = Math.floor((now - state.startedAt) / (o.churnSeconds * 1000));
    const series: object[] = [];
    for (let k = 0; k < o.seriesPerBatch; k++) {
      const timestamps = new Float64Array(o.samplesPerSeries);
      const values = new Float64Array(o.samplesPerSeries);
      for (let j = 0; j < o.samplesPerSeries; j++) {
        timestamps[j] = now - (o.samplesPerSeries - j) * 5;
        values[j] = (k * 7 + j) % 100;
      }
      series.push({ metric: 'soak_series', labels: { job: `job-${k % 5}`, instance: `i-${k}`, pod: `pod-${generation}-${k}` }, unit: 'ms', timestamps, values });
    }
    const res = await timed(state, 'ingest_series', () => fetch(`${url}/v1/telemetry/events`, {
      method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: msgpackBody({ series, ttl_seconds: o.ttlSeconds }),
    }));
    if (res) {
      state.window.acked.series += series.length;
      state.window.acked.samples += series.length * o.samplesPerSeries;
      state.totals.samples += series.length * o.samplesPerSeries;
    }
  });
}

function spansLoop(url: string, o: Options, state: State): Promise<void> {
  return loop(state, o.spansEveryMs, async (i) => {
    const now = Date.now();
    const trace = `soak-${state.startedAt}-${i}`;
    const root = `${trace}-root`;
    const events: object[] = [];
    for (let s = 0; s < 8; s++) {
      const span = s === 0 ? root : `${trace}-s${s}`;
      const attributes = { kind: 'soak', model: `model-${i % 3}`, step: s, session: `session-${i % 50}`, ...(s === 0 ? { __root__: true } : {}) };
      events.push({ type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(now + s), attributes, payload: { type: 'span_start', name: `step-${s}`, parent_span_id: s === 0 ? null : root } });
      events.push({ type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(now + 50 + s), payload: { type: 'span_end', status: s === 5 ? 'error' : 'ok' } });
    }
    events.push({ type: 'metric', trace_id: trace, span_id: root, timestamp: iso(now), metric: 'soak_tokens', value: 100 + (i % 17), unit: 'tokens', attributes: { model: `model-${i % 3}` } });
    events.push({ type: 'metric', trace_id: trace, span_id: root, timestamp: iso(now), metric: 'soak_latency_ms', value: 20 + (i % 13), unit: 'ms', attributes: { model: `model-${i % 3}` } });
    events.push({ type: 'unstructured_log', trace_id: trace, span_id: root, timestamp: iso(now), message: `turn ${i}`, severity: 'info' });
    const res = await timed(state, 'ingest_spans', () => fetch(`${url}/v1/telemetry/events`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events, ttl_seconds: o.ttlSeconds }),
    }));
    if (res) {
      state.window.acked.spanBatches++;
      state.lastRoot = root;
      state.shortTraces.push([trace, Date.now()]);
    }
  });
}

/** The long-TTL stream every acknowledged item of which must be there at the end. */
function verifyLoop(url: string, o: Options, state: State): Promise<void> {
  return loop(state, o.verifyEveryMs, async (i) => {
    const now = Date.now();
    const trace = `verify-${state.startedAt}-${i}`;
    const events: object[] = [];
    for (let s = 0; s < 3; s++) {
      const span = `${trace}-s${s}`;
      events.push({ type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(now + s), attributes: { stream: 'verify', seq: i },
        payload: { type: 'span_start', name: 'verify', parent_span_id: s === 0 ? null : `${trace}-s0` } });
      events.push({ type: 'structured_log', trace_id: trace, span_id: span, timestamp: iso(now + 10 + s), payload: { type: 'span_end', status: 'ok' } });
    }
    events.push({ type: 'metric', trace_id: trace, span_id: `${trace}-s0`, timestamp: iso(now), metric: 'soak_verify_events', value: 1, unit: 'events', attributes: { stream: 'verify' } });
    const a = await timed(state, 'ingest_verify', () => fetch(`${url}/v1/telemetry/events`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events, ttl_seconds: 86_400 }),
    }));
    if (a) {
      state.verify.traces++;
      state.verify.spans += 3;
      state.verify.events++;
      state.window.acked.verifyBatches++;
    }
    const timestamps = Float64Array.from({ length: 10 }, (_, j) => now - 10 + j);
    const b = await timed(state, 'ingest_verify', () => fetch(`${url}/v1/telemetry/events`, {
      method: 'POST', headers: { 'content-type': 'application/msgpack' },
      body: msgpackBody({ series: [{ metric: 'soak_verify_series', labels: { stream: 'verify' }, timestamps, values: new Float64Array(10).fill(1) }], ttl_seconds: 86_400 }),
    }));
    if (b) state.verify.samples += 10;
  });
}

function queryLoop(url: string, o: Options, state: State, promql: boolean): Promise<void> {
  const json = (path: string, body: unknown) => () =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const queries: [string, () => (() => Promise<Response>) | null][] = [
    ['query_traces', () => json('/v1/telemetry/traces', { attribute_filters: [{ key: 'kind', op: 'eq', value: 'soak' }, { key: 'model', op: 'eq', value: 'model-1' }], limit: 20 })],
    ['span_tree', () => (state.lastRoot ? json(`/v1/telemetry/spans/${state.lastRoot}/tree`, { attributes_to_return: ['model', 'step'], max_depth: 3 }) : null)],
    ['query_metrics', () => {
      const nowS = Math.floor(Date.now() / 1000);
      return json('/v1/telemetry/metrics/soak_series', { start_time: nowS - 300, end_time: nowS, granularity: '1m', label_matchers: [{ name: 'job', value: 'job-[0-2]', operator: '=~' }] });
    }],
    ['query_metrics_instant', () => {
      const nowS = Math.floor(Date.now() / 1000);
      return json('/v1/telemetry/metrics/soak_tokens', { start_time: nowS - 60, end_time: nowS, query_type: 'instant' });
    }],
    ['query_spans', () => json('/v1/telemetry/spans', { attribute_filters: [{ key: 'session', op: 'eq', value: 'session-7' }], attributes_to_return: ['step'], max_depth: 2 })],
    ...(promql ? [
      ['promql_range', () => {
        const end = Math.floor(Date.now() / 1000);
        return () => fetch(`${url}/api/v1/query_range?${new URLSearchParams({ query: 'sum by (job) (rate(soak_series[1m]))', start: String(end - 300), end: String(end), step: '15' })}`);
      }],
      ['promql_instant', () => () => fetch(`${url}/api/v1/query?${new URLSearchParams({ query: 'count(soak_series)' })}`)],
    ] as [string, () => (() => Promise<Response>) | null][] : []),
  ];
  return loop(state, o.queryEveryMs, async (i) => {
    const [kind, make] = queries[i % queries.length]!;
    const request = make();
    if (request) await timed(state, kind, request);
  });
}

// ---------------------------------------------------------------------------------------------
// Sampling, checks, report
// ---------------------------------------------------------------------------------------------

async function takeSample(server: ServerProcess, state: State, windowSeconds: number): Promise<Sample> {
  const w = state.window;
  state.window = new Window();
  const rss = rssBytes(server.pid);
  let m = new Map<string, number>();
  try {
    m = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
  } catch (error) {
    noteError(`/metrics: ${(error as Error).message}`);
  }
  const mb = (bytes: number | undefined) => Math.round(((bytes ?? NaN) / 1024 / 1024) * 10) / 10;
  const all: number[] = [];
  const ingest: number[] = [];
  const byKind: Sample['queryByKind'] = {};
  for (const [kind, list] of w.latencies) {
    list.sort((a, b) => a - b);
    if (kind.startsWith('ingest_')) ingest.push(...list);
    else {
      all.push(...list);
      byKind[kind] = { n: list.length, p50: round(percentile(list, 50)), p99: round(percentile(list, 99)) };
    }
  }
  all.sort((a, b) => a - b);
  ingest.sort((a, b) => a - b);
  return {
    t: Math.round((Date.now() - state.startedAt) / 1000),
    rssMB: mb(rss),
    heapUsedMB: mb(m.get('nodejs_heap_used_bytes')),
    heapTotalMB: mb(m.get('nodejs_heap_total_bytes')),
    arrayBuffersMB: mb(m.get('nodejs_array_buffers_bytes')),
    series: m.get('strata_series') ?? NaN,
    spansIndexed: m.get('strata_spans_indexed') ?? NaN,
    tracesIndexed: m.get('strata_traces_indexed') ?? NaN,
    segments: m.get('strata_segments:sum') ?? NaN,
    headRows: m.get('strata_head_rows:sum') ?? NaN,
    segmentsDropped: m.get('strata_segments_dropped') ?? NaN,
    segmentFiles: m.get('strata_segment_files') ?? NaN,
    walMB: mb(m.get('strata_wal_bytes')),
    query: { n: all.length, p50: round(percentile(all, 50)), p95: round(percentile(all, 95)), p99: round(percentile(all, 99)), max: round(all.at(-1) ?? NaN) },
    queryByKind: byKind,
    ingest: { n: ingest.length, p50: round(percentile(ingest, 50)), p99: round(percentile(ingest, 99)), max: round(ingest.at(-1) ?? NaN) },
    samplesPerSec: Math.round(w.acked.samples / windowSeconds),
    errors: w.errors,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
}

/** Least-squares slope of y over t (per minute). */
function slopePerMinute(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0, den = 0;
  for (const [t, y] of points) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

interface Check {
  pass: boolean;
  detail: string;
  [k: string]: unknown;
}

function memoryCheck(samples: Sample[], key: 'rssMB' | 'heapUsedMB' | 'arrayBuffersMB', toleranceMB: number): Check {
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const middleMax = Math.max(...middle.map((s) => s[key]));
  const lastMax = Math.max(...last.map((s) => s[key]));
  const slope = slopePerMinute(samples.slice(third).map((s) => [s.t, s[key]]));
  const pass = lastMax <= middleMax * 1.1 + toleranceMB;
  return {
    pass, middleMaxMB: middleMax, lastMaxMB: lastMax, slopeMBPerMin: round(slope),
    detail: `last third max ${lastMax} MB vs middle third max ${middleMax} MB (allowed ${round(middleMax * 1.1 + toleranceMB)}); slope over the last two thirds ${round(slope)} MB/min`,
  };
}

function latencyCheck(samples: Sample[]): Check {
  const third = Math.floor(samples.length / 3);
  const middle = median(samples.slice(third, 2 * third).map((s) => s.query.p95));
  const last = median(samples.slice(2 * third).map((s) => s.query.p95));
  const allowed = middle * 1.5 + 10;
  return {
    pass: last <= allowed, middleP95Ms: middle, lastP95Ms: last,
    detail: `median query p95: last third ${last} ms vs middle third ${middle} ms (allowed ${round(allowed)} ms)`,
  };
}

async function lossCheck(url: string, o: Options, state: State): Promise<Check> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ data: unknown }>;
  };
  const v = state.verify;
  const traces = (await post('/v1/telemetry/traces', { attribute_filters: [{ key: 'stream', op: 'eq', value: 'verify' }], limit: v.traces + 100 })).data as unknown[];
  const spans = (await post('/v1/telemetry/spans', { attribute_filters: [{ key: 'stream', op: 'eq', value: 'verify' }], attributes_to_return: ['seq'] })).data as unknown[];
  const startS = Math.floor(state.startedAt / 1000) - 60;
  const endS = Math.floor(Date.now() / 1000) + 60;
  const sumOf = async (metric: string) => {
    const data = (await post(`/v1/telemetry/metrics/${metric}`, { start_time: startS, end_time: endS, query_type: 'instant' })).data as { values: { value: number }[] }[];
    return data.reduce((s, series) => s + series.values.reduce((a, p) => a + p.value, 0), 0);
  };
  const events = await sumOf('soak_verify_events');
  const samples = await sumOf('soak_verify_series');
  // The short-TTL stream: its newest trace is there, one acknowledged more than TTL + 10 s ago is gone.
  const newest = state.shortTraces.at(-1);
  const newestStatus = newest ? (await fetch(`${url}/v1/telemetry/traces/${newest[0]}`)).status : 0;
  const expiredCutoff = Date.now() - (o.ttlSeconds + 10) * 1000;
  const old = state.shortTraces.filter(([, at]) => at < expiredCutoff).at(-1);
  const oldStatus = old ? (await fetch(`${url}/v1/telemetry/traces/${old[0]}`)).status : 404;
  const found = { traces: traces.length, spans: spans.length, events, samples };
  const pass = found.traces === v.traces && found.spans === v.spans && found.events === v.events && found.samples === v.samples && newestStatus === 200 && oldStatus === 404;
  return {
    pass, acknowledged: { ...v }, found, newestShortTraceStatus: newestStatus, expiredShortTraceStatus: oldStatus,
    detail: `long-TTL stream: ${found.traces}/${v.traces} traces, ${found.spans}/${v.spans} spans, ${found.events}/${v.events} metric events, ${found.samples}/${v.samples} series samples; ` +
      `short-TTL stream: newest trace ${newestStatus}, one past its TTL ${oldStatus}`,
  };
}

function printTable(samples: Sample[]): void {
  const header = ['t(s)', 'RSS MB', 'heap MB', 'AB MB', 'series', 'spans', 'segs', 'dropped', 'WAL MB', 'q n', 'q p50', 'q p95', 'q p99', 'ing p50', 'ing p99', 'samples/s', 'err'];
  const rows = samples.map((s) => [s.t, s.rssMB, s.heapUsedMB, s.arrayBuffersMB, s.series, s.spansIndexed, s.segments, s.segmentsDropped, s.walMB,
    s.query.n, s.query.p50, s.query.p95, s.query.p99, s.ingest.p50, s.ingest.p99, s.samplesPerSec, s.errors].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padStart(widths[i]!)).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 1) + ':').join('|') + '|');
  for (const r of rows) console.log(line(r));
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  console.log(`soak: ${o.seconds} s, sampling every ${o.sampleSeconds} s, TTL ${o.ttlSeconds} s, ${o.seriesPerBatch}×${o.samplesPerSeries} samples every ${o.metricsEveryMs} ms, a trace every ${o.spansEveryMs} ms, a query every ${o.queryEveryMs} ms`);
  const server = await startServer();
  const promql = (await fetch(`${server.url}/api/v1/query?query=1`)).status !== 404;
  const state: State = {
    running: true, window: new Window(), startedAt: Date.now(), lastRoot: null, shortTraces: [],
    verify: { traces: 0, spans: 0, events: 0, samples: 0 }, totals: { errors: 0, requests: 0, samples: 0 },
  };
  const samples: Sample[] = [];
  const loops = [metricsLoop(server.url, o, state), spansLoop(server.url, o, state), verifyLoop(server.url, o, state), queryLoop(server.url, o, state, promql)];
  const endAt = state.startedAt + o.seconds * 1000;
  let lastSampleAt = Date.now();
  while (Date.now() < endAt) {
    await sleep(Math.min(o.sampleSeconds * 1000, Math.max(0, endAt - Date.now())));
    const now = Date.now();
    const sample = await takeSample(server, state, (now - lastSampleAt) / 1000);
    lastSampleAt = now;
    samples.push(sample);
    if (state.shortTraces.length > 10_000) state.shortTraces.splice(0, state.shortTraces.length - 5000);
    console.log(`  t=${sample.t}s rss=${sample.rssMB}MB heap=${sample.heapUsedMB}MB series=${sample.series} spans=${sample.spansIndexed} segs=${sample.segments} dropped=${sample.segmentsDropped} q.p95=${sample.query.p95}ms ingest.p99=${sample.ingest.p99}ms samples/s=${sample.samplesPerSec} errors=${sample.errors}`);
  }
  state.running = false;
  await Promise.all(loops);

  const checks: Record<string, Check> = {
    memory_rss: memoryCheck(samples, 'rssMB', 32),
    memory_heap: memoryCheck(samples, 'heapUsedMB', 16),
    // The columnar data (typed arrays) lives outside the V8 heap.
    memory_array_buffers: memoryCheck(samples, 'arrayBuffersMB', 16),
    latency: latencyCheck(samples),
    errors: { pass: state.totals.errors === 0, detail: `${state.totals.errors} errors in ${state.totals.requests} requests`, first: errorLog.slice(0, 10) },
    lost_events: await lossCheck(server.url, o, state).catch((e: Error) => ({ pass: false, detail: `verification failed: ${e.message}` })),
    segments_expired: {
      pass: (samples.at(-1)?.segmentsDropped ?? 0) > 0,
      detail: `${samples.at(-1)?.segmentsDropped ?? 0} segments dropped by TTL during the run`,
    },
  };
  // The server stops cleanly too.
  const exited = once(server.child, 'exit') as Promise<[number | null]>;
  server.child.kill('SIGTERM');
  const [code] = await exited;
  checks.clean_shutdown = { pass: code === 0, detail: `SIGTERM → exit code ${code}` };
  rmSync(server.dataDir, { recursive: true, force: true });

  printTable(samples);
  console.log('');
  for (const [name, c] of Object.entries(checks)) console.log(`${c.pass ? 'PASS' : 'FAIL'} ${name}: ${c.detail}`);
  const pass = Object.values(checks).every((c) => c.pass);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify({
    suite: 'soak', date: new Date().toISOString(), node: process.version, host: { cpus: (await import('node:os')).cpus().length },
    options: o, promqlServed: promql, totals: state.totals, checks, pass, samples,
  }, null, 2) + '\n');
  console.log(`\n${pass ? 'soak passed' : 'soak FAILED'}; results in ${o.out}`);
  if (!pass && errorLog.length) console.log(errorLog.slice(0, 10).join('\n'));
  return pass ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(2);
});
