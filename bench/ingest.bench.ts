/**
 * Ingest throughput (issue 8, SPEC §3): strata next to VictoriaMetrics 1.79 loaded with the
 * same samples in the same run, each server a child process on a free port with a fresh
 * temporary data directory; strata runs with `--fsync always` (the default: acknowledged =
 * fsynced to the WAL).
 *
 *   node --import tsx bench/ingest.bench.ts [--quick] [--clients 4] [--runs 5] [--scenario NAME ...]
 *
 * Each server first takes an untimed run of the same traffic under other metric names (as
 * many samples as the timed run, then the count query over them), so that what is timed is
 * a running server, not one still compiling its hot paths: V8 compiles a function once it
 * has run enough, each decode thread is an isolate that compiles its own code, and many
 * functions run once per body (80 bodies in the series run), so a smaller warm-up leaves
 * the timed run compiling them. Then it is timed once it has settled (idle again).
 *
 * Workload (bench/ingest/workload.ts): 4,000 series × 750 samples = 3 M samples, one per
 * second, 10 metric names, host/region/instance labels. Bodies are encoded before timing;
 * `--clients` (default 4) concurrent clients send them. Each run is timed from the first
 * request until every sample is queryable: the last ack, then (strata) a count over PromQL
 * when served, else per-series sums over the Llama Stack metrics API; (VictoriaMetrics)
 * `/internal/force_flush` and a `count_over_time` query, polled until complete.
 *
 * The whole sequence of scenarios runs `--runs` times (default 5; 1 with --quick), so strata
 * and VictoriaMetrics take turns and a slow spell of this shared machine (its speed drifts by
 * tens of percent within minutes) falls on both; each row is the median run, with every
 * run's rate in its note.
 *
 * Scenarios:
 *   decode     in process: one 10k-event batch through decode, WAL encoding and apply, the
 *              per-event path (before issue 8) against the fast path; one series-batch body
 *              from bytes to WAL entry, general path against the series fast path
 *              (bench/ingest/decode-paths.ts)
 *   series     strata series batches (msgpack Float64Arrays, 250 series × 150 samples per body)
 *   vm-series  VictoriaMetrics /api/v1/import, one JSON line per series (same bodies' samples)
 *   events     strata metric events, 10,000 per body (plain msgpack)
 *   vm-events  VictoriaMetrics /api/v1/import, one JSON line per sample, 10,000 per body
 *   stream     strata series batches over the WebSocket stream (4 messages in flight per connection)
 *   spans      strata span_start + span_end events: 20,000 traces × 10 spans, 2,500 spans per body
 * VictoriaMetrics scenarios are skipped, with the reason printed, when /usr/bin/victoria-metrics
 * is absent (`apt-get install victoria-metrics`).
 *
 * STRATA_BENCH_CPU_PROF=DIR runs each strata server under `node --cpu-prof`, profiles in DIR.
 *
 * Writes bench/results/ingest.json (`--quick`, 120 k samples, or only some `--scenario`s:
 * bench/results/tmp/ingest-quick.json / ingest-partial.json, git-ignored) and prints a markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { postAll, streamAll, type SendStats } from './ingest/clients.ts';
import { measureDecodePaths, measureSeriesBodyPaths } from './ingest/decode-paths.ts';
import { cpuSeconds, settled, startStrata, startVictoriaMetrics, victoriaMetricsAvailable, VICTORIA_METRICS_BIN, type CpuSeconds, type ServerProcess } from './ingest/processes.ts';
import { strataQueryableSamples, strataTraceCount, victoriaMetricsQueryableSamples } from './ingest/verify.ts';
import { spanEventBodies, Workload, type WorkloadShape } from './ingest/workload.ts';
import { isMain, machine, markdownTable, RESULTS_DIR, writeResults, type BenchRow } from './report.ts';

export const SCENARIOS = ['decode', 'series', 'vm-series', 'events', 'vm-events', 'stream', 'spans'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface IngestBenchOptions {
  quick?: boolean;
  clients?: number;
  scenarios?: readonly Scenario[];
  /** How many times each scenario runs (default 5, or 1 with `quick`); the median is kept. */
  runs?: number;
}

const FULL: WorkloadShape = { series: 4000, samplesPerSeries: 750, samplesPerRound: 150, seriesPerBody: 250, eventsPerBody: 10_000 };
const QUICK: WorkloadShape = { ...FULL, samplesPerSeries: 30, samplesPerRound: 15 };
const SPANS = { traces: 20_000, spansPerTrace: 10, spansPerBody: 2_500 };
const QUICK_SPANS = { ...SPANS, traces: 1_000 };
const STREAM_PIPELINE = 4;
const WARMUP_PREFIX = 'warmup_ingest_';
const MSGPACK = 'application/msgpack';

interface Measured {
  seconds: number;
  /** Until the last acknowledgement (the rest is waiting until every sample is queryable). */
  ackSeconds?: number;
  /** CPU the server used over the run (main thread; all threads). */
  cpu?: CpuSeconds | null;
  items: number;
  stats: SendStats;
  /** Every run's rate (items/s) when the scenario ran more than once; this one is their median. */
  runs?: number[];
}

/** The run with the median rate (the lower middle one of an even count), knowing all runs' rates. */
function median(ms: Measured[]): Measured {
  const sorted = [...ms].sort((a, b) => a.items / a.seconds - b.items / b.seconds);
  return { ...sorted[(sorted.length - 1) >> 1]!, runs: ms.map((m) => m.items / m.seconds) };
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(1)} k/s`;
}

export async function runIngestBench(options: IngestBenchOptions = {}): Promise<BenchRow[]> {
  const clients = options.clients ?? 4;
  const runs = options.runs ?? (options.quick ? 1 : 5);
  const scenarios = new Set(options.scenarios?.length ? options.scenarios : SCENARIOS);
  const shape = options.quick ? QUICK : FULL;
  const workload = new Workload(shape);
  const warmup = new Workload(shape, Date.now(), WARMUP_PREFIX);
  const spans = options.quick ? QUICK_SPANS : SPANS;
  const vm = victoriaMetricsAvailable();
  if (!vm) console.error(`ingest bench: skipping VictoriaMetrics: ${VICTORIA_METRICS_BIN} not found (apt-get install victoria-metrics)`);
  const total = workload.totalSamples;
  const perSecond = (m: Measured) => m.items / m.seconds;
  const rows: BenchRow[] = [];
  const measured: Partial<Record<Scenario, Measured>> = {};
  const note = (m: Measured) => `${m.runs && m.runs.length > 1 ? `median of ${m.runs.length} runs (${m.runs.map((r) => formatRate(r)).join(', ')}): ` : ''}${m.items.toLocaleString('en-US')} in ${m.seconds.toFixed(2)} s${m.ackSeconds !== undefined ? ` (last ack at ${m.ackSeconds.toFixed(2)} s)` : ''}${m.cpu ? `, server CPU ${m.cpu.total.toFixed(2)} s (by thread: ${Object.entries(m.cpu.byThread).map(([n, s]) => `${n} ${s}`).join(', ')})` : ''}, ${m.stats.requests} requests, ${(m.stats.bytes / 2 ** 20).toFixed(0)} MiB${m.stats.retried ? `, ${m.stats.retried} retried after 429` : ''}`;

  // A warm-up ends as a timed run does: once its samples are counted queryable.
  const warmStrata = async (url: string, sent: Promise<unknown>) => {
    await sent;
    if ((await strataQueryableSamples(url, warmup)) !== warmup.totalSamples) throw new Error('warm-up samples not all queryable');
  };
  const warmVictoriaMetrics = async (url: string, sent: Promise<unknown>) => {
    await sent;
    if ((await victoriaMetricsQueryableSamples(url, warmup)) !== warmup.totalSamples) throw new Error('warm-up samples not all queryable');
  };
  if (scenarios.has('decode')) {
    const { before, after, events } = measureDecodePaths();
    const stage = (name: string, key: keyof typeof before) => {
      rows.push({ name: `${events / 1000}k metric events, ${name}: per event (before)`, value: before[key], unit: 'ms' });
      rows.push({ name: `${events / 1000}k metric events, ${name}: grouped, fast path`, value: after[key], unit: 'ms' });
    };
    stage('decode + validate', 'decodeMs');
    stage('WAL encoding', 'walEncodeMs');
    stage('apply (threaded path: main thread decodes the WAL encoding, then applies)', 'applyMs');
    const series = measureSeriesBodyPaths();
    const body = `series batch body (${series.samples.toLocaleString('en-US')} samples), decode + validate + WAL encoding on a decode thread`;
    rows.push({ name: `${body}: general path (msgpackr + schema)`, value: series.generalMs, unit: 'ms' });
    rows.push({ name: `${body}: series fast path`, value: series.fastMs, unit: 'ms' });
  }
  // A fresh server of each engine: the warm-up bodies, then the timed ones, over HTTP.
  const strataPosts = (bodies: Uint8Array[], warm: Uint8Array[]) => onStrata((url, pid) => timeSamples(pid, workload,
    () => warmStrata(url, postAll(`${url}/v1/telemetry/events`, warm, MSGPACK, clients)),
    () => postAll(`${url}/v1/telemetry/events`, bodies, MSGPACK, clients), () => strataQueryableSamples(url, workload)));
  const victoriaMetricsImports = (bodies: string[], warm: string[]) => onVictoriaMetrics((url, pid) => timeSamples(pid, workload,
    () => warmVictoriaMetrics(url, postAll(`${url}/api/v1/import`, warm, 'application/json', clients)),
    () => postAll(`${url}/api/v1/import`, bodies, 'application/json', clients), () => victoriaMetricsQueryableSamples(url, workload)));
  // Each scenario runs `runs` times, the whole sequence over again each time, so strata and
  // VictoriaMetrics alternate and a slow spell of this shared machine falls on both; the
  // median run is the result, and every run's rate is in the note.
  const all: Partial<Record<Scenario, Measured[]>> = {};
  for (let run = 0; run < runs; run++) {
    const once: Partial<Record<Scenario, Measured>> = {};
    if (scenarios.has('series')) once.series = await strataPosts(workload.strataSeriesBodies(), warmup.strataSeriesBodies());
    if (scenarios.has('vm-series') && vm) once['vm-series'] = await victoriaMetricsImports(workload.vmSeriesBodies(), warmup.vmSeriesBodies());
    if (scenarios.has('events')) once.events = await strataPosts(workload.strataEventBodies(), warmup.strataEventBodies());
    if (scenarios.has('vm-events') && vm) once['vm-events'] = await victoriaMetricsImports(workload.vmSampleBodies(), warmup.vmSampleBodies());
    if (scenarios.has('stream')) {
      const bodies = workload.strataSeriesBodies(), warm = warmup.strataSeriesBodies();
      const stream = (url: string, sent: Uint8Array[], expected: number) => async () => {
        const applied = await streamAll(`${url.replace('http', 'ws')}/v1/telemetry/stream`, sent, clients, STREAM_PIPELINE);
        if (applied !== expected) throw new Error(`stream: ${applied} samples acknowledged, expected ${expected}`);
        return { requests: sent.length, retried: 0, bytes: sent.reduce((n, b) => n + b.byteLength, 0) };
      };
      once.stream = await onStrata((url, pid) => timeSamples(pid, workload, () => warmStrata(url, stream(url, warm, warmup.totalSamples)()), stream(url, bodies, total), () => strataQueryableSamples(url, workload)));
    }
    if (scenarios.has('spans')) {
      const bodies = spanEventBodies(spans.traces, spans.spansPerTrace, spans.spansPerBody);
      once.spans = await onStrata(async (url) => {
        const started = performance.now();
        const stats = await postAll(`${url}/v1/telemetry/events`, bodies, MSGPACK, clients);
        const traces = await strataTraceCount(url, spans.traces + 1);
        const seconds = (performance.now() - started) / 1000;
        if (traces !== spans.traces) throw new Error(`spans: ${traces} traces queryable, expected ${spans.traces}`);
        return { seconds, items: spans.traces * spans.spansPerTrace, stats };
      });
    }
    for (const [scenario, m] of Object.entries(once) as [Scenario, Measured][]) (all[scenario] ??= []).push(m);
  }
  for (const [scenario, ms] of Object.entries(all) as [Scenario, Measured[]][]) measured[scenario] = median(ms);

  const vsVm = (ours: Measured | undefined, theirs: Measured | undefined) =>
    theirs ? `≥ VictoriaMetrics (${(perSecond(theirs) / 1e6).toFixed(2)} M/s here)` : 'VictoriaMetrics not run';
  const row = (scenario: Scenario, name: string, unit: string, target?: string) => {
    const m = measured[scenario];
    if (m) rows.push({ name, value: perSecond(m), unit, target, note: note(m) });
  };
  row('series', `series batches, msgpack (${clients} clients, ${workload.shape.series} series)`, 'samples/s', vsVm(measured.series, measured['vm-series']));
  row('vm-series', 'VictoriaMetrics /api/v1/import, one line per series', 'samples/s');
  row('events', 'metric events, msgpack batches of 10k', 'samples/s', vsVm(measured.events, measured['vm-events']));
  row('vm-events', 'VictoriaMetrics /api/v1/import, one line per sample', 'samples/s');
  row('stream', `WebSocket stream, series batches (${STREAM_PIPELINE} in flight per connection)`, 'samples/s');
  row('spans', `spans (start + end events, ${spans.spansPerBody} spans per body)`, 'spans/s');

  const extra = {
    quick: !!options.quick, clients, runs, fsync: 'always', workload: { ...workload.shape, totalSamples: total, spans },
    warmup: { samples: warmup.totalSamples, metricPrefix: WARMUP_PREFIX, note: 'sent to each server before timing, under other metric names' },
    victoriaMetrics: vm ? VICTORIA_METRICS_BIN : `skipped: ${VICTORIA_METRICS_BIN} not found`,
  };
  // Only a full run of every scenario is the record; anything less goes to the git-ignored tmp/.
  if (options.quick || scenarios.size < SCENARIOS.length) {
    const dir = join(RESULTS_DIR, 'tmp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `ingest-${options.quick ? 'quick' : 'partial'}.json`), JSON.stringify({ suite: 'ingest', machine: machine(), rows, ...extra }, null, 2) + '\n');
  } else {
    writeResults('ingest', rows, extra);
  }
  console.log(markdownTable(rows));
  return rows;
}

/** Warms the server up, lets it settle, then sends and waits until every sample of the workload is queryable; that whole span is timed. */
async function timeSamples(pid: number, workload: Workload, warm: () => Promise<unknown>, send: () => Promise<SendStats>, queryable: () => Promise<number>): Promise<Measured> {
  await warm();
  await settled(pid);
  const cpu0 = cpuSeconds(pid);
  const started = performance.now();
  const stats = await send();
  const ackSeconds = (performance.now() - started) / 1000;
  const count = await queryable();
  const seconds = (performance.now() - started) / 1000;
  const cpu1 = cpuSeconds(pid);
  if (count !== workload.totalSamples) throw new Error(`${count} samples queryable after the load, expected ${workload.totalSamples}`);
  const cpu = cpu0 && cpu1 ? { total: cpu1.total - cpu0.total, byThread: threadDeltas(cpu0.byThread, cpu1.byThread) } : null;
  return { seconds, ackSeconds, items: count, stats, cpu };
}

/** Per-thread-name CPU over the run, the busiest first, leaving out threads under 0.05 s. */
function threadDeltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const deltas = Object.entries(after).map(([name, s]) => [name, s - (before[name] ?? 0)] as const).filter(([, s]) => s >= 0.05);
  return Object.fromEntries(deltas.sort((a, b) => b[1] - a[1]).map(([name, s]) => [name, Math.round(s * 100) / 100]));
}

async function onStrata<T>(run: (url: string, pid: number) => Promise<T>): Promise<T> {
  return onServer(await startStrata('always', process.env.STRATA_BENCH_CPU_PROF), run);
}

async function onVictoriaMetrics<T>(run: (url: string, pid: number) => Promise<T>): Promise<T> {
  return onServer(await startVictoriaMetrics(), run);
}

async function onServer<T>(server: ServerProcess, run: (url: string, pid: number) => Promise<T>): Promise<T> {
  try {
    await settled(server.pid);
    return await run(server.url, server.pid);
  } finally {
    await server.stop();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, clients: { type: 'string' }, runs: { type: 'string' }, scenario: { type: 'string', multiple: true } },
  });
  const unknown = (values.scenario ?? []).filter((s) => !SCENARIOS.includes(s as Scenario));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; have ${SCENARIOS.join(', ')}`);
  await runIngestBench({ quick: values.quick, clients: values.clients ? Number(values.clients) : undefined, runs: values.runs ? Number(values.runs) : undefined, scenarios: values.scenario as Scenario[] | undefined });
}
