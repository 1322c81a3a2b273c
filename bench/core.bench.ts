/**
 * Storage-core benchmarks (issue 2): append rate, seal time, time-range + series scan,
 * matcher selection and memory per sealed sample. Run: `npx tsx --expose-gc bench/core.bench.ts`
 * (or `node --expose-gc --import tsx ...`); results go to bench/results/core.json.
 */
import { Bench, type Task } from 'tinybench';
import { SeriesRegistry } from '../src/index/series.ts';
import { manualClock } from '../src/storage/clock.ts';
import { MetricTable } from '../src/storage/metric-table.ts';
import type { MetricSegment } from '../src/storage/metric-segment.ts';
import { isMain, markdownTable, writeResults, type BenchRow } from './report.ts';

const SEC = 1_000_000;
const T0 = 1_700_000_000 * SEC;
const TTL = 7 * 86_400 * SEC;
const NO_SEAL = { maxHeadRows: Number.MAX_SAFE_INTEGER, maxHeadAgeMicros: Number.MAX_SAFE_INTEGER };

/** 10,000 series × 100 samples at 15 s, arriving interleaved as scrapes do. */
function appendScrapes(table: MetricTable, series: number, samplesPerSeries: number): number {
  for (let k = 0; k < samplesPerSeries; k++) {
    const ts = T0 + k * 15 * SEC;
    for (let s = 0; s < series; s++) table.append(s, ts, (s * 31 + k) % 1000, TTL);
  }
  return series * samplesPerSeries;
}

function buildSealed(series: number, samplesPerSeries: number): MetricTable {
  const table = new MetricTable(NO_SEAL, manualClock(T0));
  appendScrapes(table, series, samplesPerSeries);
  table.seal();
  return table;
}

async function appendAndSeal(rows: BenchRow[]): Promise<void> {
  const bench = new Bench({ time: 3000, warmupIterations: 2, iterations: 5 });
  bench
    .add('append 1M samples (10k series, one row at a time)', () => {
      appendScrapes(new MetricTable(NO_SEAL, manualClock(T0)), 10_000, 100);
    })
    .add('append 1M samples (10k series, 100-sample runs)', () => {
      const t = new MetricTable(NO_SEAL, manualClock(T0));
      const ts = new Float64Array(100), vs = new Float64Array(100);
      for (let k = 0; k < 100; k++) { ts[k] = T0 + k * 15 * SEC; vs[k] = k; }
      for (let s = 0; s < 10_000; s++) t.appendMany(s, ts, vs, TTL);
    });
  let toSeal: MetricTable[] = [];
  bench.add('seal 1M samples (10k series)', () => {
    const t = toSeal.pop() as MetricTable;
    t.seal();
  }, {
    beforeEach() { toSeal.push(buildHead()); },
  });
  await bench.run();
  const [perRow, runs, seal] = bench.tasks;
  rows.push({ name: 'append, one sample per call', value: 1e6 / (meanMs(perRow) / 1000), unit: 'samples/s', target: '≥ 5 M samples/s' });
  rows.push({ name: 'append, 100-sample runs per call', value: 1e6 / (meanMs(runs) / 1000), unit: 'samples/s' });
  rows.push({ name: 'seal 1 M samples into a segment', value: meanMs(seal), unit: 'ms' });
  toSeal = [];
}

/** Mean time of a completed task in ms; a failed task fails the suite. */
function meanMs(task: Task): number {
  const r = task.result;
  if (!r || !('latency' in r)) throw new Error(`bench task ${task.name} did not complete`);
  return r.latency.mean;
}

function buildHead(): MetricTable {
  const t = new MetricTable(NO_SEAL, manualClock(T0));
  appendScrapes(t, 10_000, 100);
  return t;
}

async function scan(rows: BenchRow[]): Promise<void> {
  // 10 segments of 1M samples: 10k series × 1000 samples in all.
  const table = new MetricTable(NO_SEAL, manualClock(T0));
  for (let seg = 0; seg < 10; seg++) {
    for (let k = 0; k < 100; k++) {
      const ts = T0 + (seg * 100 + k) * 15 * SEC;
      for (let s = 0; s < 10_000; s++) table.append(s, ts, 1, TTL);
    }
    table.seal();
  }
  const selected = Array.from({ length: 2_000 }, (_, i) => i * 5); // a fifth of the series
  const minTs = T0 + 200 * 15 * SEC, maxTs = T0 + 799 * 15 * SEC; // 60% of the time
  let total = 0;
  const visit = (_ts: Float64Array, v: Float64Array, s: number, e: number) => {
    let acc = 0;
    for (let i = s; i < e; i++) acc += v[i];
    total += acc;
  };
  const bench = new Bench({ time: 3000, warmupIterations: 3 });
  bench.add('scan', () => {
    total = 0;
    for (let i = 0; i < selected.length; i++) table.visitSeries(selected[i], minTs, maxTs, visit, T0);
  });
  await bench.run();
  const expected = 2_000 * 600;
  if (total !== expected) throw new Error(`scan summed ${total}, expected ${expected}`);
  rows.push({ name: 'time-range + series scan summing values (2k of 10k series, 60% of 10 segments)', value: expected / (meanMs(bench.tasks[0]) / 1000), unit: 'samples/s', target: '≥ 100 M samples/s' });
}

async function matchers(rows: BenchRow[]): Promise<void> {
  const reg = new SeriesRegistry();
  for (let i = 0; i < 100_000; i++) {
    reg.getOrCreate({ __name__: `metric_${i % 50}`, job: `job-${i % 10}`, instance: `host-${i % 1000}:9100`, model: `model-${i % 7}` });
  }
  const bench = new Bench({ time: 2000 });
  const cases: [string, Parameters<typeof reg.postings.select>[0]][] = [
    ['name + equality', [{ name: '__name__', op: '=', value: 'metric_7' }, { name: 'job', op: '=', value: 'job-7' }]],
    ['name + regex', [{ name: '__name__', op: '=', value: 'metric_7' }, { name: 'instance', op: '=~', value: 'host-1.*' }]],
    ['negative regex over all', [{ name: 'job', op: '!~', value: 'job-[0-4]' }]],
  ];
  for (const [name, m] of cases) bench.add(name, () => reg.postings.select(m));
  await bench.run();
  for (const t of bench.tasks) rows.push({ name: `matcher selection over 100k series: ${t.name}`, value: meanMs(t) * 1000, unit: 'µs' });
}

function memoryPerSample(rows: BenchRow[]): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    rows.push({ name: 'memory per sealed sample', value: NaN, unit: 'bytes', note: 'run with --expose-gc' });
    return;
  }
  gc();
  const before = process.memoryUsage();
  const tables: MetricTable[] = [];
  for (let i = 0; i < 5; i++) tables.push(buildSealed(10_000, 100));
  gc();
  gc();
  const after = process.memoryUsage();
  const samples = 5 * 1_000_000;
  const heapAndBuffers = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  const columnBytes = tables.reduce((n, t) => n + t.segments.reduce((m: number, s: MetricSegment) => m + s.byteSize, 0), 0);
  rows.push({ name: 'memory per sealed sample (heap + array buffers)', value: heapAndBuffers / samples, unit: 'bytes', target: '≤ 20 bytes/sample' });
  rows.push({ name: 'column bytes per sealed sample', value: columnBytes / samples, unit: 'bytes' });
  // Keep the tables reachable until after the measurement.
  if (tables.length !== 5) throw new Error('unreachable');
}

export async function runCoreBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  memoryPerSample(rows);
  await appendAndSeal(rows);
  await scan(rows);
  await matchers(rows);
  return rows;
}

if (isMain(import.meta.url)) {
  const rows = await runCoreBench();
  writeResults('core', rows);
  console.log(markdownTable(rows));
}
