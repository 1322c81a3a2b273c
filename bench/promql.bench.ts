/**
 * PromQL engine latency over the parity workload (2,700 series, 1.1 M samples over 3 h at
 * 15–60 s, held in an ArraySource): range queries over the whole 3 h at 15 s steps (721
 * points per series) and instant queries, including formatting the result into the HTTP
 * API's JSON shape (without serialising it).
 *
 *   npx tsx bench/promql.bench.ts    -> prints a markdown table, writes bench/results/promql.json
 */
import { Bench } from 'tinybench';
import { instantQuery, rangeQuery, type QueryResult } from '../src/promql/engine.ts';
import { ArraySource } from '../src/promql/source.ts';
import { generateWorkload, WORKLOAD_END_MS, WORKLOAD_START_MS } from '../test/promql/parity-workload.ts';
import { isMain, markdownTable, writeResults, type BenchRow } from './report.ts';

const STEP_MS = 15_000;
const MID_MS = WORKLOAD_START_MS + 90 * 60_000;

const RANGE_QUERIES = [
  'strata_memory_bytes',
  'rate(strata_http_requests_total[5m])',
  'sum by (service) (rate(strata_http_requests_total[5m]))',
  'histogram_quantile(0.9, sum by (le, service) (rate(strata_request_duration_seconds_bucket[5m])))',
  'avg_over_time(strata_memory_bytes[10m])',
  'topk(5, strata_memory_bytes)',
  'strata_memory_bytes > 5e8 and on(instance) strata_up == 1',
];

const INSTANT_QUERIES = ['sum by (service) (rate(strata_http_requests_total[5m]))', 'strata_memory_bytes{pod="p1"} / 1024 / 1024'];

export async function runPromqlBench(): Promise<BenchRow[]> {
  const source = new ArraySource(generateWorkload().series);
  const bench = new Bench({ time: 2000, iterations: 5, warmupIterations: 2 });
  const points = new Map<string, number>();
  for (const q of RANGE_QUERIES) {
    const name = `range 3h/15s: ${q}`;
    points.set(name, countPoints(rangeQuery(source, q, WORKLOAD_START_MS, WORKLOAD_END_MS, STEP_MS)));
    bench.add(name, () => {
      rangeQuery(source, q, WORKLOAD_START_MS, WORKLOAD_END_MS, STEP_MS);
    });
  }
  for (const q of INSTANT_QUERIES) {
    bench.add(`instant: ${q}`, () => {
      instantQuery(source, q, MID_MS);
    });
  }
  await bench.run();

  const rows: BenchRow[] = [];
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state === 'errored' ? result.error.message : result.state}`);
    const ms = result.latency.mean;
    const pointCount = points.get(task.name);
    rows.push({
      name: task.name,
      value: Math.round(ms * 100) / 100,
      unit: 'ms',
      note: pointCount === undefined ? undefined : `${pointCount} result points, ${Math.round(pointCount / (ms / 1000)).toLocaleString('en-US')} points/s`,
    });
  }
  writeResults('promql', rows, { workload: '2,700 series, 1.1 M samples, 3 h', step: '15 s' });
  console.log(markdownTable(rows));
  return rows;
}

function countPoints(r: QueryResult): number {
  if (r.resultType !== 'matrix') return 1;
  return r.result.reduce((n, s) => n + s.values.length, 0);
}

if (isMain(import.meta.url)) await runPromqlBench();
