/**
 * Durability benchmarks (issue 3): `store.ingest` throughput under each fsync policy with
 * 1 and 16 concurrent writers, ingest latency while segments flush (worker thread vs
 * chunked on the main thread), flush rate to Parquet, Parquet bytes per sample and per
 * span against the in-memory size, and restart time (segment load, WAL replay).
 *
 *   npx tsx bench/durability.bench.ts     -> markdown table, bench/results/durability.json
 *
 * Every case runs on a fresh store in a temp dir under the OS temp directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Data } from 'apache-arrow';
import type { EngineEvent, IngestBatch } from '../src/storage/events.ts';
import type { FlushMode } from '../src/storage/segment-writer.ts';
import type { FsyncPolicy } from '../src/storage/wal.ts';
import { Store, type StoreOpenOptions } from '../src/store.ts';
import { isMain, markdownTable, writeResults, type BenchRow } from './report.ts';

const SEC = 1_000_000;
const TTL_SECONDS = 7 * 86_400;
const T0 = Date.now() * 1000;
const POLICIES: FsyncPolicy[] = ['always', 'batch', 'off'];
const WRITERS = [1, 16];
const INGEST_SECONDS = 2.5;
const SERIES_PER_BATCH = 10;
const SAMPLES_PER_SERIES = 100;
const SPANS_PER_BATCH = 500;

const tempDirs: string[] = [];
const crashed: Store[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-dur-'));
  tempDirs.push(dir);
  return dir;
}

function open(dataDir: string, extra: Partial<StoreOpenOptions> = {}): Promise<Store> {
  return Store.open({ dataDir, nodeId: 'bench', log: () => undefined, limits: { maxHeadRows: 250_000, maxHeadAgeMicros: 10 * SEC }, ...extra });
}

/**
 * 1,000 samples as 10 series entries of 100: half counters (integers that only go up),
 * half gauges (two-decimal floats), 10 s apart, the shape of a VictoriaMetrics import.
 */
function metricBatch(i: number): IngestBatch {
  const series = [];
  for (let s = 0; s < SERIES_PER_BATCH; s++) {
    const id = (i * SERIES_PER_BATCH + s) % 2000;
    const timestamps = new Float64Array(SAMPLES_PER_SERIES);
    const values = new Float64Array(SAMPLES_PER_SERIES);
    let counter = i * 1000;
    for (let k = 0; k < SAMPLES_PER_SERIES; k++) {
      timestamps[k] = T0 + (i * SAMPLES_PER_SERIES + k) * 10 * SEC + (k % 7) * 1000;
      counter += (k * 7919) % 13;
      values[k] = id % 2 ? counter : Math.round(Math.sin(i + k) * 10_000) / 100;
    }
    series.push({ metric: id % 2 ? 'http_requests_total' : 'gpu_utilization', labels: { host: `host-${id % 200}`, job: 'inference', model: `model-${id % 5}` }, timestamps, values });
  }
  return { ttlSeconds: TTL_SECONDS, events: [], series };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** 500 spans as 1,000 events: every start followed (in the same batch) by its end. */
function spanBatch(i: number): IngestBatch {
  const events: EngineEvent[] = [];
  for (let k = 0; k < SPANS_PER_BATCH; k++) {
    const n = i * SPANS_PER_BATCH + k;
    const traceId = hex(Math.floor(n / 8), 32);
    const spanId = hex(n, 16);
    const parentSpanId = n % 8 === 0 ? undefined : hex(n - (n % 8), 16);
    const ts = T0 + n * 1000;
    events.push({ kind: 'span_start', traceId, spanId, parentSpanId, ts, name: ['agent', 'inference', 'tool', 'retrieval'][n % 4], attributes: { model: `model-${n % 5}`, session_id: `S${n % 97}` } });
    events.push({ kind: 'span_end', traceId, spanId, ts: ts + 700, status: n % 50 ? 'ok' : 'error', attributes: { output_tokens: n % 500 } });
  }
  return { ttlSeconds: TTL_SECONDS, events, series: [] };
}

interface Throughput {
  batches: number;
  seconds: number;
  latencies: number[];
  /** CPU time of the whole process (all threads), ms: unlike wall time, barely moved by other load on the machine. */
  cpuMs: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** `writers` loops each ingesting batches back to back for `seconds`. */
async function ingestFor(store: Store, make: (i: number) => IngestBatch, writers: number, seconds: number): Promise<Throughput> {
  const pool = Array.from({ length: 64 }, (_, i) => make(i));
  let next = 0;
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: writers }, async () => {
    while (performance.now() < deadline) {
      const batch = pool[next++ % pool.length];
      const t = performance.now();
      await store.ingest(batch);
      latencies.push(performance.now() - t);
    }
  }));
  return { batches: latencies.length, seconds: (performance.now() - started) / 1000, latencies, cpuMs: cpuMsSince(cpu) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function ingestRow(shape: 'metrics' | 'spans', label: string, r: Throughput): BenchRow {
  const unitsPerBatch = shape === 'metrics' ? SERIES_PER_BATCH * SAMPLES_PER_SERIES : SPANS_PER_BATCH * 2;
  const sorted = r.latencies.sort((a, b) => a - b);
  return {
    name: `ingest ${shape === 'metrics' ? '1k-sample series batches' : '1k span-event batches'}, ${label}`,
    value: (r.batches * unitsPerBatch) / r.seconds,
    unit: shape === 'metrics' ? 'samples/s' : 'events/s',
    note: `${Math.round(r.batches / r.seconds)} batches/s, p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms, ` +
      `${(r.cpuMs / r.batches).toFixed(2)} CPU-ms per batch`,
  };
}

async function ingestThroughput(rows: BenchRow[]): Promise<void> {
  for (const shape of ['metrics', 'spans'] as const) {
    const make = shape === 'metrics' ? metricBatch : spanBatch;
    // Baseline: the same batches applied by an in-memory store (no WAL, no files).
    const memory = await Store.open({ maintenanceIntervalMs: 100, limits: { maxHeadRows: 250_000, maxHeadAgeMicros: 10 * SEC } });
    rows.push(ingestRow(shape, 'in memory (no WAL), 1 writer', await ingestFor(memory, make, 1, INGEST_SECONDS)));
    await memory.close();
    for (const fsync of POLICIES) {
      for (const writers of WRITERS) {
        const store = await open(tempDir(), { fsync, maintenanceIntervalMs: 100 });
        const r = await ingestFor(store, make, writers, INGEST_SECONDS);
        await store.close();
        rows.push(ingestRow(shape, `fsync=${fsync}, ${writers} writer${writers > 1 ? 's' : ''}`, r));
      }
    }
  }
}

/**
 * One writer at fsync=off (so fsync time does not hide stalls) while the maintenance
 * timer seals and flushes ~100k-row segments: how much does flushing delay ingest?
 */
async function latencyDuringFlush(rows: BenchRow[]): Promise<void> {
  for (const flushMode of ['worker', 'inline'] as FlushMode[]) {
    const store = await open(tempDir(), { fsync: 'off', flushMode, maintenanceIntervalMs: 50, limits: { maxHeadRows: 100_000, maxHeadAgeMicros: 60 * SEC } });
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const r = await ingestFor(store, metricBatch, 1, 4);
    loop.disable();
    await store.close();
    const sorted = r.latencies.sort((a, b) => a - b);
    const flushed = store.durabilityStats()!.flush;
    const note = `${flushed.files} files flushed meanwhile; p50 ${percentile(sorted, 0.5).toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, event-loop delay max ${(loop.max / 1e6).toFixed(1)} ms`;
    rows.push({ name: `ingest latency p99 while flushing (${flushMode} flush)`, value: percentile(sorted, 0.99), unit: 'ms', note });
  }
}

function dirBytes(dir: string, filter: (file: string) => boolean): number {
  let total = 0;
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    if (filter(p) && fs.statSync(p).isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/** Buffers of an Arrow Data tree, string dictionaries included. */
function arrowBytes(data: Data): number {
  let n = data.byteLength;
  for (const d of [data, ...data.children]) if (d.dictionary) for (const chunk of d.dictionary.data) n += chunk.byteLength;
  return n;
}

/** Seals 1 M samples and 200k spans (400k events) at once and times the flush; then sizes the files. */
async function flushAndSize(rows: BenchRow[]): Promise<void> {
  const dir = tempDir();
  const store = await open(dir, { fsync: 'off', maintenanceIntervalMs: 0, limits: { maxHeadRows: 10_000_000, maxHeadAgeMicros: 3600 * SEC } });
  for (let i = 0; i < 1000; i++) await store.ingest(metricBatch(i));
  store.sealAll();
  let cpu = process.cpuUsage();
  let started = performance.now();
  await store.maintain();
  const metricMs = performance.now() - started;
  const metricCpuMs = cpuMsSince(cpu);
  const metricSegment = store.metrics.segments[0];
  const metricFileBytes = dirBytes(path.join(dir, 'segments', 'table=metrics'), (f) => f.endsWith('.parquet'));

  for (let i = 0; i < 400; i++) await store.ingest(spanBatch(i));
  store.sealAll();
  cpu = process.cpuUsage();
  started = performance.now();
  await store.maintain();
  const spanMs = performance.now() - started;
  const spanCpuMs = cpuMsSince(cpu);
  const spanSegment = store.spanEvents.segments[0];
  const spanFileBytes = dirBytes(path.join(dir, 'segments', 'table=span_events'), (f) => f.endsWith('.parquet'));
  const spans = spanSegment.rows / 2;
  await store.close();

  rows.push({ name: 'flush metric segment to Parquet (1 M samples, 2k series)', value: metricSegment.rows / (metricMs / 1000), unit: 'rows/s', note: `${metricMs.toFixed(0)} ms wall, ${metricCpuMs.toFixed(0)} CPU-ms (worker thread)` });
  rows.push({ name: 'flush span-event segment to Parquet (400k events)', value: spanSegment.rows / (spanMs / 1000), unit: 'rows/s', note: `${spanMs.toFixed(0)} ms wall, ${spanCpuMs.toFixed(0)} CPU-ms` });
  rows.push({ name: 'Parquet bytes per sample', value: metricFileBytes / metricSegment.rows, unit: 'B', note: `in memory: ${(metricSegment.byteSize / metricSegment.rows).toFixed(2)} B/sample (segment columns)` });
  rows.push({ name: 'Parquet bytes per span (start + end event)', value: spanFileBytes / spans, unit: 'B', note: `in memory: ${(arrowBytes(spanSegment.batch.data) / spans).toFixed(1)} B/span (Arrow buffers)` });
}

/** Opens a store over `dir` and reports how long it took per million rows it brought back. */
async function timeOpen(dir: string, name: string, rows: BenchRow[], rowsOf: (s: Store) => number): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const store = await open(dir, { maintenanceIntervalMs: 0, limits: { maxHeadRows: 10_000_000, maxHeadAgeMicros: 3600 * SEC } });
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  const n = rowsOf(store);
  rows.push({ name, value: ms / (n / 1e6), unit: 'ms per M rows', note: `${n} rows in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} CPU-ms` });
  await store.close();
}

/**
 * Restart time for rows that are all in segment files (load) and all in the WAL
 * (replay), for metric samples (1 M) and span events (200k) separately.
 */
async function restart(rows: BenchRow[]): Promise<void> {
  const shapes = [
    { label: 'metric samples', make: metricBatch, batches: 1000, rowsOf: (s: Store) => s.metrics.rowCount },
    { label: 'span events', make: spanBatch, batches: 200, rowsOf: (s: Store) => s.spanEvents.rowCount },
  ];
  for (const { label, make, batches, rowsOf } of shapes) {
    const flushed = tempDir();
    const a = await open(flushed, { fsync: 'off', maintenanceIntervalMs: 0 });
    for (let i = 0; i < batches; i++) await a.ingest(make(i));
    await a.close();
    await timeOpen(flushed, `restart: load ${label} from segment files`, rows, rowsOf);

    const logged = tempDir();
    const b = await open(logged, { fsync: 'off', maintenanceIntervalMs: 0, limits: { maxHeadRows: 10_000_000, maxHeadAgeMicros: 3600 * SEC } });
    for (let i = 0; i < batches; i++) await b.ingest(make(i));
    // Left open, as after a crash: every row is in the WAL only. Kept referenced so its
    // WAL file handle is not closed by the garbage collector behind our back.
    crashed.push(b);
    await timeOpen(logged, `restart: replay ${label} from the WAL`, rows, rowsOf);
  }
}

export async function runDurabilityBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  try {
    await ingestThroughput(rows);
    await latencyDuringFlush(rows);
    await flushAndSize(rows);
    await restart(rows);
  } finally {
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }
  // Shared machines: the load average says how much of the CPU these numbers really had.
  writeResults('durability', rows, { tmpdir: os.tmpdir(), loadAverage: os.loadavg() });
  return rows;
}

if (isMain(import.meta.url)) {
  const rows = await runDurabilityBench();
  console.log(markdownTable(rows));
  for (const r of rows) if (r.note) console.log(`- ${r.name}: ${r.note}`);
}
