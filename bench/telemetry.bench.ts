/**
 * Llama Stack Telemetry benchmark (issue 4): strata serving 1 M spans in 20,000 traces over
 * HTTP, next to Llama Stack's reference SQLite trace store on the same data and questions.
 *
 *   node --import tsx bench/telemetry.bench.ts [--quick] [--iterations 200] [--warmup 20]
 *        [--no-sqlite | --sqlite-results FILE] [--sqlite-budget 60] [--baseline FILE]
 *        [--cpu-prof DIR] [--server-root DIR] [--out NAME]
 *
 * - strata runs as a child process (`src/cli.ts serve --port 0 --fsync off`, a fresh temporary
 *   data directory): `--fsync off` only speeds up loading; queries never touch the WAL.
 * - Workload (bench/reference/gen_spans.ts, seed 1): 20,000 traces of 20..80 spans (mean 50,
 *   exactly 1 M spans), 2,000 sessions of 10 traces; the root of each trace carries session_id;
 *   spans carry model_id, tokens and (half of them) input/output strings. Loaded as span_start +
 *   span_end events, POST /v1/telemetry/events {events, ttl_seconds} in batches of 2,000 spans.
 *   Timestamps are fixed (December 2024) so the data is the same on every run, hence a 20-year
 *   ttl_seconds. Plus 100,000 `tokens` metric events with labels model/session_id over one day.
 * - Each query is asked `--iterations` times, sequentially, over one keep-alive connection,
 *   after `--warmup` unmeasured calls; latency = request sent → whole response body received.
 *   Targets (sessions, 80-span traces) are drawn by a seeded RNG; the SQLite reference
 *   (bench/reference/sqlite_trace_store.py, python3's sqlite3, in-process: no HTTP, so a lower
 *   bound for Llama Stack) answers the same questions, within a time budget per query since it
 *   needs seconds to minutes per call at this size. query_metrics has no SQLite reference.
 * - `--quick`: 1,000 traces (50 k spans), 100 sessions, 5,000 samples, 50 iterations.
 * - `--cpu-prof DIR`: the server runs under `node --cpu-prof` (profile written at exit).
 * - `--server-root DIR`: the server from another checkout (a worktree at an earlier commit), for
 *   before/after runs; `--baseline FILE` puts an earlier run's numbers next to this one's.
 * - Besides latencies, the server's main-thread CPU time per call is recorded (from
 *   /proc/<pid>/task/<pid>/schedstat): on a busy machine latency is mostly waiting for a core.
 *
 * Writes bench/results/telemetry.json (`--quick`: bench/results/tmp/telemetry-quick.json, git-ignored;
 * `--out NAME`: bench/results/NAME.json) and prints a markdown table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSpans, spanEvents, type GeneratedSpan } from './reference/gen_spans.ts';
import { isMain, RESULTS_DIR, writeResults, type BenchRow } from './report.ts';
import { formatMicros } from '../src/telemetry/time.ts';
import { mulberry32 } from './random.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEC = 1_000_000;
/** 20 years: the workload's timestamps are fixed (2024-12), so the default 7-day TTL would expire it. */
const TTL_SECONDS = 20 * 365 * 86_400;
/** The metrics' day: 2024-12-04T00:00:00Z, the day the span workload starts. */
const METRIC_DAY_START_S = 1_733_270_400;
const MODELS = ['meta-llama/Llama-3.1-8B-Instruct', 'meta-llama/Llama-3.3-70B-Instruct'];
const SPANS_PER_BATCH = 2_000;
const METRICS_PER_BATCH = 5_000;
const TREE_SPANS = 80;

export interface TelemetryBenchOptions {
  quick?: boolean;
  iterations?: number;
  warmup?: number;
  /** false: strata only. */
  sqlite?: boolean;
  /** Reuse a reference report (sqlite_trace_store.py output) instead of running it. */
  sqliteResults?: string;
  /** Seconds of calls per reference query (at least 3 calls each). */
  sqliteBudgetSeconds?: number;
  /** An earlier telemetry.json to show as "before" next to this run. */
  baseline?: string;
  cpuProfDir?: string;
  /** Run the server from another checkout (e.g. a worktree at an earlier commit, for before/after). */
  serverRoot?: string;
  /** Results file name (bench/results/<out>.json). */
  out?: string;
  log?: (line: string) => void;
}

interface Workload {
  traces: number;
  spansPerTrace: number;
  spansPerTraceSpread: number;
  sessions: number;
  seed: number;
  metricSamples: number;
}

const FULL: Workload = { traces: 20_000, spansPerTrace: 50, spansPerTraceSpread: 30, sessions: 2_000, seed: 1, metricSamples: 100_000 };
const QUICK: Workload = { traces: 1_000, spansPerTrace: 50, spansPerTraceSpread: 30, sessions: 100, seed: 1, metricSamples: 5_000 };

export interface QueryStats {
  n: number;
  /**
   * The server's main thread: CPU time and run-queue wait per call over the measured calls
   * (/proc/<pid>/task/<pid>/schedstat). CPU time stays meaningful on a busy machine, where
   * latencies mostly measure waiting for a core. Absent for the SQLite reference.
   */
  server_cpu_ms?: number;
  server_wait_ms?: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
  mean_results: number;
}

interface QueryResult {
  /** Row label. */
  label: string;
  /** The reference query of the same name in sqlite_trace_store.py, if any. */
  reference: string | null;
  /** Part of the goal (≥ 100× SQLite, p99 < 10 ms), or an extra. */
  goal: boolean;
  strata: QueryStats;
  sqlite: QueryStats | null;
}

// ---------------------------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------------------------

interface ServerProcess {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function startServerProcess(root: string, dataDir: string, cpuProfDir: string | undefined): Promise<ServerProcess> {
  const nodeFlags = ['--import', 'tsx', ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])];
  const args = [...nodeFlags, join(root, 'src/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--fsync', 'off', '--log-level', 'info'];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STRATA_LOG_LEVEL: 'info' } });
  const tail: string[] = [];
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`strata exited (${code}) before listening:\n${tail.join('\n')}`));
    child.once('exit', onExit);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        tail.push(line);
        if (tail.length > 50) tail.shift();
        const m = /listening on (http:\/\/\S+)/.exec(line);
        if (m) {
          child.off('exit', onExit);
          resolve(m[1]);
        }
      }
    });
  });
  return {
    child, url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** [on-CPU ns, run-queue wait ns] of a process' main thread (Linux), or null. */
function schedstat(pid: number): [number, number] | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return [run, wait];
  } catch {
    return null;
  }
}

/** Resident set size of a process, from /proc (Linux). */
function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP client: one keep-alive connection, sequential requests
// ---------------------------------------------------------------------------------------------

class Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(private readonly base: string) {}

  send(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.base);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method, agent: this.agent,
        headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    return JSON.parse(res.text);
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------------

interface TraceInfo {
  traceId: string;
  rootSpanId: string;
  session: string;
  spans: number;
}

interface Loaded {
  traces: TraceInfo[];
  sessions: string[];
  /** Per session: spans whose input and output are both set (what query_spans returns). */
  spansWithInputOutput: Map<string, number>;
  spans: number;
  seconds: number;
}

/** Loads the span workload through the HTTP API, writing it as JSON lines for the reference on the way. */
async function loadSpans(client: Client, w: Workload, jsonl: WriteStream | null, log: (s: string) => void): Promise<Loaded> {
  const traces: TraceInfo[] = [];
  const sessions: string[] = [];
  const seenSessions = new Set<string>();
  const spansWithInputOutput = new Map<string, number>();
  let current: TraceInfo | null = null;
  let events: unknown[] = [];
  let inFlight: Promise<unknown> | null = null;
  let spans = 0;
  const started = performance.now();
  const flush = async () => {
    if (inFlight) await inFlight;
    const body = { events, ttl_seconds: TTL_SECONDS };
    events = [];
    inFlight = client.json('POST', '/v1/telemetry/events', body);
  };
  for (const span of generateSpans(w)) {
    if (span.parent_span_id === null) {
      const session = span.attributes.session_id as string;
      current = { traceId: span.trace_id, rootSpanId: span.span_id, session, spans: 0 };
      traces.push(current);
      if (!seenSessions.has(session)) {
        seenSessions.add(session);
        sessions.push(session);
      }
    }
    const trace = current as TraceInfo;
    trace.spans++;
    if (hasInputOutput(span)) spansWithInputOutput.set(trace.session, (spansWithInputOutput.get(trace.session) ?? 0) + 1);
    const [start, end] = spanEvents(span);
    events.push(start, end);
    spans++;
    if (jsonl && !jsonl.write(JSON.stringify(span) + '\n')) await once(jsonl, 'drain');
    if (events.length >= 2 * SPANS_PER_BATCH) await flush();
    if (spans % 100_000 === 0) log(`  loaded ${spans.toLocaleString('en-US')} spans`);
  }
  if (events.length) await flush();
  await inFlight;
  return { traces, sessions, spansWithInputOutput, spans, seconds: (performance.now() - started) / 1000 };
}

function hasInputOutput(span: GeneratedSpan): boolean {
  return span.attributes.input !== undefined && span.attributes.output !== undefined;
}

/** `tokens` samples, labels model + session_id, spread evenly over one day. */
async function loadMetrics(client: Client, w: Workload, sessions: string[]): Promise<number> {
  const random = mulberry32(w.seed + 1000);
  const started = performance.now();
  const stepMicros = (86_400 * SEC) / w.metricSamples;
  let events: unknown[] = [];
  for (let i = 0; i < w.metricSamples; i++) {
    const ts = METRIC_DAY_START_S * SEC + Math.floor(i * stepMicros + random() * stepMicros);
    events.push({
      type: 'metric', trace_id: 'metrics', span_id: `m${i}`, timestamp: formatMicros(ts),
      metric: 'tokens', value: 1 + Math.floor(random() * 2000), unit: 'tokens',
      attributes: { model: MODELS[Math.floor(random() * MODELS.length)], session_id: sessions[Math.floor(random() * sessions.length)] },
    });
    if (events.length === METRICS_PER_BATCH || i === w.metricSamples - 1) {
      await client.json('POST', '/v1/telemetry/events', { events, ttl_seconds: TTL_SECONDS });
      events = [];
    }
  }
  return (performance.now() - started) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

interface Query<T> {
  label: string;
  reference: string | null;
  goal: boolean;
  targets: T[];
  request(target: T): { method: 'GET' | 'POST'; path: string; body?: string };
  /** Result count of a parsed response (checked against `expect` on a few calls). */
  count(response: unknown): number;
  expect?(target: T): number;
}

async function measure<T>(client: Client, q: Query<T>, warmup: number, serverPid: number): Promise<QueryStats> {
  // Check the answers first (outside the timing): a fast wrong answer is no result.
  for (const target of q.targets.slice(0, 5)) {
    const r = q.request(target);
    const res = await client.send(r.method, r.path, r.body);
    if (res.status !== 200) throw new Error(`${q.label}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    const n = q.count(JSON.parse(res.text));
    if (q.expect && n !== q.expect(target)) throw new Error(`${q.label}: ${n} results, expected ${q.expect(target)}`);
  }
  for (let i = 0; i < warmup; i++) {
    const r = q.request(q.targets[i % q.targets.length]);
    await client.send(r.method, r.path, r.body);
  }
  const latencies: number[] = [];
  const texts: string[] = [];
  const sched0 = schedstat(serverPid);
  for (const target of q.targets) {
    const r = q.request(target);
    const t0 = performance.now();
    const res = await client.send(r.method, r.path, r.body);
    latencies.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${q.label}: HTTP ${res.status}`);
    texts.push(res.text);
  }
  const sched1 = schedstat(serverPid);
  let results = 0;
  for (const text of texts) results += q.count(JSON.parse(text));
  const stats = summarize(latencies, results / q.targets.length);
  if (sched0 && sched1) {
    stats.server_cpu_ms = Math.round(((sched1[0] - sched0[0]) / 1e6 / q.targets.length) * 10_000) / 10_000;
    stats.server_wait_ms = Math.round(((sched1[1] - sched0[1]) / 1e6 / q.targets.length) * 10_000) / 10_000;
  }
  return stats;
}

/** Same statistics as sqlite_trace_store.py: inclusive-method quantiles. */
export function summarize(latencies: number[], meanResults: number): QueryStats {
  const x = [...latencies].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10_000) / 10_000;
  return {
    n: x.length,
    p50_ms: round(quantile(x, 0.5)),
    p99_ms: round(quantile(x, 0.99)),
    mean_ms: round(x.reduce((a, b) => a + b, 0) / x.length),
    min_ms: round(x[0]),
    max_ms: round(x[x.length - 1]),
    mean_results: Math.round(meanResults * 100) / 100,
  };
}

/** Linear interpolation between closest ranks (Python's statistics.quantiles, method="inclusive"). */
export function quantile(sorted: number[], p: number): number {
  if (sorted.length === 1) return sorted[0];
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// ---------------------------------------------------------------------------------------------
// The SQLite reference
// ---------------------------------------------------------------------------------------------

async function runReference(spansFile: string, dir: string, targets: Record<string, unknown[]>, budgetSeconds: number, log: (s: string) => void): Promise<Record<string, unknown>> {
  const targetsFile = join(dir, 'targets.json');
  writeFileSync(targetsFile, JSON.stringify(targets));
  const args = [
    join(ROOT, 'bench/reference/sqlite_trace_store.py'), spansFile, '--db', join(dir, 'reference.db'),
    '--targets', targetsFile, '--queries', Object.keys(targets).join(','),
    // Commits batched for loading speed only: the queries see the same tables either way.
    '--commit-every', '10000', '--warmup', '1', '--time-budget', String(budgetSeconds), '--min-iterations', '3',
  ];
  log(`sqlite reference: python3 ${args.map((a) => a.replace(dir, '$TMP')).join(' ')}`);
  const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`sqlite_trace_store.py exited with ${code}`);
  return JSON.parse(out);
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/**
 * Runs the benchmark, writes the results file, prints the tables on stdout and returns the rows
 * (as bench/run.ts expects of a suite's run…Bench export).
 */
export async function runTelemetryBench(options: TelemetryBenchOptions = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const w = options.quick ? QUICK : FULL;
  const iterations = options.iterations ?? (options.quick ? 50 : 200);
  const warmup = options.warmup ?? (options.quick ? 10 : 20);
  const runSqlite = options.sqlite !== false && !options.sqliteResults;
  const dir = mkdtempSync(join(tmpdir(), 'strata-telemetry-bench-'));
  const spansFile = join(dir, 'spans.jsonl');
  const serverRoot = options.serverRoot ?? ROOT;
  const server = await startServerProcess(serverRoot, join(dir, 'data'), options.cpuProfDir);
  const client = new Client(server.url);
  try {
    log(`strata at ${server.url} (pid ${server.child.pid}); loading ${(w.traces * w.spansPerTrace).toLocaleString('en-US')} spans in ${w.traces.toLocaleString('en-US')} traces`);
    const jsonl = runSqlite ? createWriteStream(spansFile) : null;
    const loaded = await loadSpans(client, w, jsonl, log);
    if (jsonl) {
      jsonl.end();
      await once(jsonl, 'finish');
    }
    const metricSeconds = await loadMetrics(client, w, loaded.sessions);
    await sleep(1000);
    const rss = rssBytes(server.child.pid as number);
    const selfMetrics = await client.send('GET', '/metrics');
    const heapUsed = Number(/^nodejs_heap_used_bytes (\S+)/m.exec(selfMetrics.text)?.[1] ?? NaN);
    log(`loaded ${loaded.spans.toLocaleString('en-US')} spans in ${loaded.seconds.toFixed(1)} s, ${w.metricSamples.toLocaleString('en-US')} samples in ${metricSeconds.toFixed(1)} s; server RSS ${mib(rss)} MiB, heap used ${mib(heapUsed)} MiB`);

    // Targets, drawn by a seeded RNG so every run (and the reference) asks the same questions.
    const random = mulberry32(w.seed + 2000);
    const pick = <T>(pool: T[]) => Array.from({ length: iterations }, () => pool[Math.floor(random() * pool.length)]);
    const bigTraces = loaded.traces.filter((t) => t.spans === TREE_SPANS);
    if (bigTraces.length === 0) throw new Error(`the workload has no ${TREE_SPANS}-span trace`);
    const traceSessions = pick(loaded.sessions);
    const treeTraces = pick(bigTraces);
    const spanSessions = pick(loaded.sessions);
    const metricSessions = pick(loaded.sessions);
    const unfiltered = Array.from({ length: iterations }, () => null);
    const tracesPerSession = new Map<string, number>();
    for (const t of loaded.traces) tracesPerSession.set(t.session, (tracesPerSession.get(t.session) ?? 0) + 1);
    const day = { start_time: METRIC_DAY_START_S, end_time: METRIC_DAY_START_S + 86_400, granularity: '1h', query_type: 'range' };

    const queries: Query<any>[] = [
      {
        label: 'query_traces (session filter)', reference: 'query_traces', goal: true, targets: traceSessions,
        request: (session: string) => post('/v1/telemetry/traces', {
          attribute_filters: [{ key: 'session_id', op: 'eq', value: session }], limit: 100, offset: 0, order_by: ['-start_time'],
        }),
        count: (r) => (r as { data: unknown[] }).data.length,
        expect: (session: string) => tracesPerSession.get(session) ?? 0,
      },
      {
        label: `get_span_tree (${TREE_SPANS}-span trace)`, reference: 'get_span_tree', goal: true, targets: treeTraces,
        request: (t: TraceInfo) => post(`/v1/telemetry/spans/${t.rootSpanId}/tree`, {}),
        count: (r) => Object.keys((r as { data: object }).data).length,
        expect: () => TREE_SPANS,
      },
      {
        label: 'query_spans (one session, input+output)', reference: 'query_spans', goal: true, targets: spanSessions,
        request: (session: string) => post('/v1/telemetry/spans', {
          attribute_filters: [{ key: 'session_id', op: 'eq', value: session }], attributes_to_return: ['input', 'output'],
        }),
        count: (r) => (r as { data: unknown[] }).data.length,
        expect: (session: string) => loaded.spansWithInputOutput.get(session) ?? 0,
      },
      {
        label: 'query_metrics (24 h, 1 h, session matcher)', reference: null, goal: true, targets: metricSessions,
        request: (session: string) => post('/v1/telemetry/metrics/tokens', { ...day, label_matchers: [{ name: 'session_id', value: session, operator: '=' }] }),
        count: (r) => (r as { data: { values: unknown[] }[] }).data.reduce((n, s) => n + s.values.length, 0),
      },
      {
        label: 'query_traces (unfiltered, first page of 100)', reference: 'query_traces_unfiltered', goal: false, targets: unfiltered,
        request: () => post('/v1/telemetry/traces', { limit: 100, offset: 0, order_by: ['-start_time'] }),
        count: (r) => (r as { data: unknown[] }).data.length,
        expect: () => Math.min(100, loaded.traces.length),
      },
      {
        label: `get_trace`, reference: null, goal: false, targets: treeTraces,
        request: (t: TraceInfo) => ({ method: 'GET', path: `/v1/telemetry/traces/${t.traceId}` }),
        count: () => 1,
      },
      {
        label: `query_metrics (24 h, 1 h, model matcher: ${w.sessions.toLocaleString('en-US')} series)`, reference: null, goal: false,
        targets: Array.from({ length: Math.min(iterations, 50) }, (_, i) => MODELS[i % MODELS.length]),
        request: (model: string) => post('/v1/telemetry/metrics/tokens', { ...day, label_matchers: [{ name: 'model', value: model, operator: '=' }] }),
        count: (r) => (r as { data: unknown[] }).data.length,
      },
    ];

    const strata: QueryStats[] = [];
    const queryStarted = performance.now();
    for (const q of queries) {
      const stats = await measure(client, q, warmup, server.child.pid as number);
      strata.push(stats);
      log(`strata ${q.label}: p50 ${stats.p50_ms} ms, p99 ${stats.p99_ms} ms (${stats.n} calls, ${stats.mean_results} results); ` +
        `server main thread ${stats.server_cpu_ms ?? '?'} ms CPU + ${stats.server_wait_ms ?? '?'} ms run-queue wait per call`);
    }
    const querySeconds = (performance.now() - queryStarted) / 1000;
    const rssAfterQueries = rssBytes(server.child.pid as number);
    client.close();
    await server.stop();

    // The reference, on the same spans and the same targets (after strata stopped: one at a time).
    let reference: Record<string, unknown> | null = null;
    if (options.sqliteResults) reference = JSON.parse(readFileSync(options.sqliteResults, 'utf8'));
    else if (runSqlite) {
      reference = await runReference(spansFile, dir, {
        query_traces: traceSessions,
        get_span_tree: treeTraces.map((t) => t.rootSpanId),
        query_spans: spanSessions,
        query_traces_unfiltered: unfiltered,
      }, options.sqliteBudgetSeconds ?? (options.quick ? 10 : 60), log);
    }
    const refQueries = (reference?.queries ?? {}) as Record<string, QueryStats>;
    const results: QueryResult[] = queries.map((q, i) => ({
      label: q.label, reference: q.reference, goal: q.goal, strata: strata[i], sqlite: q.reference ? refQueries[q.reference] ?? null : null,
    }));

    const baseline = options.baseline ? (JSON.parse(readFileSync(options.baseline, 'utf8')) as { queries?: QueryResult[] }) : null;
    const table = markdown(results, baseline?.queries ?? null);
    const rows: BenchRow[] = [];
    for (const r of results) {
      const target = r.goal ? 'p99 < 10 ms; ≥ 100× SQLite' : undefined;
      rows.push({ name: `${r.label}: strata p50`, value: r.strata.p50_ms, unit: 'ms', target });
      rows.push({ name: `${r.label}: strata p99`, value: r.strata.p99_ms, unit: 'ms', target: r.goal ? '< 10 ms' : undefined });
      if (r.sqlite) {
        rows.push({ name: `${r.label}: SQLite p50`, value: r.sqlite.p50_ms, unit: 'ms', note: `${r.sqlite.n} calls` });
        rows.push({ name: `${r.label}: SQLite p99`, value: r.sqlite.p99_ms, unit: 'ms', note: `${r.sqlite.n} calls` });
        rows.push({ name: `${r.label}: speed-up (p50)`, value: r.sqlite.p50_ms / r.strata.p50_ms, unit: '×', target: r.goal ? '≥ 100×' : undefined });
      }
    }
    rows.push({ name: 'load: spans through POST /v1/telemetry/events (JSON, --fsync off)', value: loaded.spans / loaded.seconds, unit: 'spans/s' });
    if (rss !== null) rows.push({ name: `server RSS after loading ${loaded.spans.toLocaleString('en-US')} spans + ${w.metricSamples.toLocaleString('en-US')} samples`, value: rss / 2 ** 20, unit: 'MiB' });
    if (Number.isFinite(heapUsed)) rows.push({ name: 'server JS heap used after loading', value: heapUsed / 2 ** 20, unit: 'MiB' });

    // A --quick smoke run must not overwrite the real results: it goes to the git-ignored tmp/.
    const out = options.out ?? (options.quick ? 'tmp/telemetry-quick' : 'telemetry');
    mkdirSync(dirname(join(RESULTS_DIR, out)), { recursive: true });
    const file = writeResults(out, rows, {
      quick: !!options.quick,
      workload: { ...w, spans: loaded.spans, ttl_seconds: TTL_SECONDS, spans_per_batch: SPANS_PER_BATCH },
      server: {
        process: 'child: node --import tsx src/cli.ts serve --port 0 --fsync off (fresh temporary data dir)',
        root: serverRoot === ROOT ? '.' : serverRoot,
        load_seconds: round2(loaded.seconds), metric_load_seconds: round2(metricSeconds),
        rss_bytes_after_load: rss, heap_used_bytes_after_load: Number.isFinite(heapUsed) ? heapUsed : null,
        rss_bytes_after_queries: rssAfterQueries, query_phase_seconds: round2(querySeconds),
      },
      method: {
        client: 'node:http, one keep-alive connection, sequential requests; latency = request sent -> whole body received',
        iterations, warmup,
        sqlite: 'bench/reference/sqlite_trace_store.py (llama-stack schema and SQL, python3 sqlite3, one connection per call, no HTTP): ' +
          'same spans, same targets (the first n of strata\'s), warm-up 1, per-query time budget, at least 3 calls; loaded with commits every 10,000 spans',
        speed_up: 'SQLite p50 / strata p50',
      },
      queries: results,
      sqlite_source: options.sqliteResults
        ? `${options.sqliteResults} (an earlier run's reference report: same seed, so the same spans and the same targets)`
        : reference ? 'this run' : null,
      sqlite: reference,
      ...(baseline ? { before: { queries: baseline.queries ?? null, file: options.baseline } } : {}),
      table,
    });
    console.log(`${table}\n\nresults: ${file}`);
    return rows;
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(results: QueryResult[], before: QueryResult[] | null): string {
  return latencyTable(results, before) + '\n\n' + cpuTable(results, before);
}

/** Server main-thread CPU per call: what the latencies would be without waiting for a core. */
function cpuTable(results: QueryResult[], before: QueryResult[] | null): string {
  const ms = (v: number | undefined) => (v === undefined ? '—' : `${v.toPrecision(3)} ms`);
  const head = ['query', ...(before ? ['before: server CPU/call'] : []), 'server CPU/call', 'server run-queue wait/call'];
  const lines = [`| ${head.join(' | ')} |`, `| --- |${' ---: |'.repeat(head.length - 1)}`];
  for (const r of results) {
    const b = before?.find((x) => x.label === r.label);
    lines.push(`| ${[r.label, ...(before ? [ms(b?.strata.server_cpu_ms)] : []), ms(r.strata.server_cpu_ms), ms(r.strata.server_wait_ms)].join(' | ')} |`);
  }
  return lines.join('\n');
}

function latencyTable(results: QueryResult[], before: QueryResult[] | null): string {
  const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? `${Math.round(v).toLocaleString('en-US')} ms` : `${v.toPrecision(3)} ms`);
  const head = ['query', 'strata p50', 'strata p99', 'SQLite p50', 'SQLite p99', 'speed-up'];
  if (before) head.splice(1, 0, 'before: strata p50', 'before: strata p99');
  const lines = [`| ${head.join(' | ')} |`, `| --- |${' ---: |'.repeat(head.length - 1)}`];
  for (const r of results) {
    const speedUp = r.sqlite ? `${Math.round(r.sqlite.p50_ms / r.strata.p50_ms).toLocaleString('en-US')}×` : '—';
    const cells = [r.label + (r.goal ? '' : ' *(extra)*'), ms(r.strata.p50_ms), ms(r.strata.p99_ms), ms(r.sqlite?.p50_ms), ms(r.sqlite?.p99_ms), speedUp];
    if (before) {
      const b = before.find((x) => x.label === r.label);
      cells.splice(1, 0, ms(b?.strata.p50_ms), ms(b?.strata.p99_ms));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function post(path: string, body: unknown): { method: 'POST'; path: string; body: string } {
  return { method: 'POST', path, body: JSON.stringify(body) };
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number | null) => (bytes === null || !Number.isFinite(bytes) ? '?' : (bytes / 2 ** 20).toFixed(0));
const round2 = (x: number) => Math.round(x * 100) / 100;

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      iterations: { type: 'string' },
      warmup: { type: 'string' },
      'no-sqlite': { type: 'boolean', default: false },
      'sqlite-results': { type: 'string' },
      'sqlite-budget': { type: 'string' },
      baseline: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'server-root': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  runTelemetryBench({
    quick: values.quick, iterations: num(values.iterations), warmup: num(values.warmup),
    sqlite: !values['no-sqlite'], sqliteResults: values['sqlite-results'], sqliteBudgetSeconds: num(values['sqlite-budget']),
    baseline: values.baseline, cpuProfDir: values['cpu-prof'], serverRoot: values['server-root'], out: values.out,
  }).then(() => undefined, (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
