/**
 * PromQL query_range cost inside one process, without HTTP: the benchmark's workload
 * (bench/promql/workload.ts) in a Store sealed as the server seals it (segments of about
 * 1 M rows, whole series per batch), then each BENCH_QUERIES query evaluated
 * (evaluateRangeQuery) and encoded (encodeMatrixResponse), timed separately. Less noisy
 * than the HTTP benchmark on a shared machine, and it runs under `node --cpu-prof`.
 *
 *   npx tsx bench/promql-inprocess.ts [--quick] [--runs=N] [--query=I,J | --expr=QUERY] [--no-helper] [--out=FILE]
 *
 * Prints per query the median ms of evaluation, encoding and both (and the minimum), and
 * the process CPU time of both (all threads: on a shared machine a steadier measure of
 * the work than wall time); with --out, writes them as JSON (use bench/results/tmp/).
 */
import { writeFileSync } from 'node:fs';
import { evaluateRangeQuery } from '../src/promql/engine.ts';
import { FAST_PATHS } from '../src/promql/fast-paths.ts';
import { HELPER_STATS, warmUpHelper } from '../src/promql/helper.ts';
import { encodeMatrixResponse } from '../src/promql/result-json.ts';
import { StoreSource } from '../src/promql/store-source.ts';
import { manualClock } from '../src/storage/clock.ts';
import { Store } from '../src/store.ts';
import { BENCH_QUERIES } from './promql.bench.ts';
import { FULL_SHAPE, generateBenchWorkload, QUICK_SHAPE } from './promql/workload.ts';

const argv = process.argv.slice(2);
const arg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = argv.includes('--quick');
const runs = Number(arg('runs') ?? 15);
const only = arg('query')?.split(',').map(Number);
/** --expr=QUERY: time this query instead of the benchmark's. */
const expr = arg('expr');
const out = arg('out');
// --no-helper: everything on this thread (to see what the helper thread buys).
if (argv.includes('--no-helper')) FAST_PATHS.helperThread = false;

const w = generateBenchWorkload(quick ? QUICK_SHAPE : FULL_SHAPE);
const store = new Store({ clock: manualClock(w.endMs * 1000 + 60_000_000) });
const TEN_YEARS = 10 * 365 * 86_400;
let batch: { metric: string; labels: Record<string, string>; timestamps: Float64Array; values: Float64Array }[] = [];
let batchSamples = 0;
let headSamples = 0;
const flush = () => {
  if (batch.length === 0) return;
  store.apply({ ttlSeconds: TEN_YEARS, events: [], series: batch } as Parameters<Store['apply']>[0]);
  headSamples += batchSamples;
  batch = [];
  batchSamples = 0;
  if (headSamples >= 1_000_000) {
    store.sealAll();
    headSamples = 0;
  }
};
for (const s of w.series) {
  const { __name__: metric, ...labels } = s.labels;
  batch.push({ metric, labels, timestamps: s.timestamps.map((t) => t * 1000), values: s.values });
  batchSamples += s.timestamps.length;
  if (batchSamples >= 250_000) flush();
}
flush();
store.sealAll();
const source = new StoreSource(store);
for (let waited = 0; !warmUpHelper(); waited += 100) {
  if (waited > 30_000) throw new Error('helper thread not ready');
  await new Promise((r) => setTimeout(r, 100));
}

const results: { query: string; evalMs: number; encodeMs: number; totalMs: number; minTotalMs: number; cpuMs: number; minCpuMs: number; bytes: number }[] = [];
for (const [i, query] of (expr ? [expr] : BENCH_QUERIES).entries()) {
  if (only && !only.includes(i)) continue;
  const evalTimes: number[] = [];
  const encodeTimes: number[] = [];
  const totals: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let r = -3; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { series, grid } = evaluateRangeQuery(source, query, w.startMs, w.endMs, 60_000);
    const t1 = performance.now();
    bytes = encodeMatrixResponse(series, grid).length;
    const t2 = performance.now();
    const c1 = process.cpuUsage(c0);
    if (r < 0) continue;
    cpu.push((c1.user + c1.system) / 1000);
    evalTimes.push(t1 - t0);
    encodeTimes.push(t2 - t1);
    totals.push(t2 - t0);
  }
  const row = { query, evalMs: median(evalTimes), encodeMs: median(encodeTimes), totalMs: median(totals), minTotalMs: Math.min(...totals), cpuMs: median(cpu), minCpuMs: Math.min(...cpu), bytes };
  results.push(row);
  console.log(`${i} eval ${row.evalMs.toFixed(2)}  encode ${row.encodeMs.toFixed(2)}  total ${row.totalMs.toFixed(2)} (min ${row.minTotalMs.toFixed(2)}) ms  cpu ${row.cpuMs.toFixed(1)} (min ${row.minCpuMs.toFixed(1)}) ms  ${bytes} B  ${query}`);
}
console.log(`helper jobs: ${JSON.stringify(HELPER_STATS)}`);
if (out) writeFileSync(out, JSON.stringify({ quick, runs, results }, null, 2) + '\n');
process.exit(0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
