/**
 * PromQL query_range latency over HTTP: strata against Prometheus 2.42 and VictoriaMetrics
 * 1.79, each its own process, loaded with the same samples (bench/promql/workload.ts:
 * 5,000 series × 12 h at a 30 s scrape interval, 7.2 M samples) and asked the same fixed
 * query set over the whole 12 h at a 60 s step (721 points per series), in the same run.
 *
 * Requests are sequential (one connection, keep-alive); each query is sent twice per engine
 * to warm up, then `runs` rounds, the engines taking turns within a round; the figure is
 * the median latency (request sent -> last byte received) per query and engine, and the
 * geometric mean of the medians per engine. Before timing, every engine's answer is
 * checked against strata's (same series, same number of points).
 *
 * An engine whose binary is absent is skipped with the reason printed.
 *
 *   npx tsx bench/promql.bench.ts            full run (bench/results/promql.json + markdown)
 *   npx tsx bench/promql.bench.ts --quick    1,000 series × 3 h, 3 runs (a smoke test)
 *   … --runs=N --engines=strata,victoriametrics --out=bench/results/tmp/x.json
 *                                            rounds, engines, and where to write (not promql.json)
 *   STRATA_BENCH_NODE_FLAGS=--cpu-prof …     profile the strata server (profile in the cwd)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPrometheusEngine, startStrata, startVictoriaMetrics, timedGet, unavailable, type Engine } from './promql/engines.ts';
import { FULL_SHAPE, generateBenchWorkload, QUICK_SHAPE, type BenchWorkload } from './promql/workload.ts';
import { isMain, machine, RESULTS_DIR, type BenchRow } from './report.ts';

export const BENCH_QUERIES = [
  'rate(bench_requests_total[5m])',
  'sum by (job) (rate(bench_requests_total[5m]))',
  'histogram_quantile(0.9, sum by (le) (rate(bench_request_duration_seconds_bucket[5m])))',
  'topk(5, rate(bench_requests_total[5m]))',
  'avg_over_time(bench_memory_bytes[10m])',
  'sum by (job, instance) (rate(bench_request_duration_seconds_sum[5m])) / sum by (job, instance) (rate(bench_request_duration_seconds_count[5m]))',
  'max by (job) (bench_memory_bytes) > 5e8 and on(job) sum by (job) (bench_up) > 0',
];

const STEP_SECONDS = 60;

export interface PromqlBenchOptions {
  quick?: boolean;
  /** Timed rounds per query (after two warm-ups). */
  runs?: number;
  /** Only these engines (names as in `unavailable`). */
  engines?: ('strata' | 'prometheus' | 'victoriametrics')[];
  /** Where to write the results (default bench/results/promql.json; quick runs write promql-quick.json). */
  resultsFile?: string;
}

interface QueryRow {
  query: string;
  series: number;
  points: number;
  /** Median ms per engine name. */
  medians: Record<string, number>;
  /** Median ms to the first byte of the answer, per engine name. */
  firstByteMedians: Record<string, number>;
  /** Every timed run, ms, per engine. */
  runs: Record<string, number[]>;
  /** strata's answer equals Prometheus' (label sets, times, values within 1e-9); null without both. */
  matchesPrometheus: boolean | null;
}

export async function runPromqlBench(options: PromqlBenchOptions = optionsFromArgv()): Promise<BenchRow[]> {
  const quick = options.quick ?? false;
  const runs = options.runs ?? (quick ? 3 : 9);
  const shape = quick ? QUICK_SHAPE : FULL_SHAPE;
  const workload = generateBenchWorkload(shape);
  log(`workload: ${workload.series.length} series × ${shape.hours} h, ${workload.samples.toLocaleString('en-US')} samples`);

  const wanted = options.engines ?? ['strata', 'prometheus', 'victoriametrics'];
  const skipped: Record<string, string> = {};
  const engines: Engine[] = [];
  try {
    const starters = { strata: startStrata, prometheus: startPrometheusEngine, victoriametrics: startVictoriaMetrics };
    for (const name of wanted) {
      const reason = unavailable(name);
      if (reason) {
        skipped[name] = reason;
        log(`skipping ${name}: ${reason}`);
        continue;
      }
      const engine = await starters[name](workload);
      log(`${engine.name}: started and loaded in ${engine.loadSeconds} s`);
      engines.push(engine);
    }
    // Background work after loading (merges, flushes) should not land in the timings.
    await sleep(quick ? 2000 : 10_000);

    const rows: QueryRow[] = [];
    for (const query of BENCH_QUERIES) rows.push(await benchQuery(engines, workload, query, runs));
    return report(rows, engines, skipped, workload, runs, options.resultsFile ?? join(RESULTS_DIR, quick ? 'promql-quick.json' : 'promql.json'));
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
  }
}

async function benchQuery(engines: Engine[], w: BenchWorkload, query: string, runs: number): Promise<QueryRow> {
  const params = new URLSearchParams({ query, start: String(w.startMs / 1000), end: String(w.endMs / 1000), step: String(STEP_SECONDS) });
  const url = (e: Engine) => `${e.url}/api/v1/query_range?${params}`;
  // Warm-up, and the answers compared: same series and point counts everywhere, and
  // strata's values within 1e-9 of Prometheus' (VictoriaMetrics computes rate and friends
  // its own way, so only its shape is compared).
  let reference: { series: number; points: number } | null = null;
  const bodies = new Map<string, Buffer>();
  for (const e of engines) {
    const answer = await timedGet(url(e));
    if (answer.status !== 200) throw new Error(`${e.name}: ${query}: HTTP ${answer.status}: ${answer.body.toString().slice(0, 300)}`);
    bodies.set(e.name, answer.body);
    const shape = resultShape(answer.body);
    if (!reference) reference = shape;
    else if (shape.series !== reference.series || shape.points !== reference.points) {
      log(`note: ${e.name} answers ${query} with ${shape.series} series / ${shape.points} points, ${engines[0].name} with ${reference.series} / ${reference.points}`);
    }
  }
  const ours = bodies.get('strata');
  const prometheus = [...bodies].find(([name]) => name.startsWith('Prometheus'))?.[1];
  const matchesPrometheus = ours && prometheus ? sameMatrix(ours, prometheus) : null;
  if (matchesPrometheus === false) log(`warning: strata and Prometheus answer ${query} differently`);
  // One more untimed round: JIT-compiled code (strata's) is warm after a couple of calls.
  for (const e of engines) await timedGet(url(e));
  const times: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e.name, []]));
  const firstByte: Record<string, number[]> = Object.fromEntries(engines.map((e) => [e.name, []]));
  for (let r = 0; r < runs; r++) {
    // Rotate who goes first, so no engine always follows the same one.
    for (let k = 0; k < engines.length; k++) {
      const e = engines[(r + k) % engines.length];
      const answer = await timedGet(url(e));
      if (answer.status !== 200) throw new Error(`${e.name}: ${query}: HTTP ${answer.status}`);
      times[e.name].push(answer.ms);
      firstByte[e.name].push(answer.firstByteMs);
    }
  }
  const medians = Object.fromEntries(Object.entries(times).map(([name, t]) => [name, round2(median(t))]));
  const firstByteMedians = Object.fromEntries(Object.entries(firstByte).map(([name, t]) => [name, round2(median(t))]));
  log(`${query}: ${Object.entries(medians).map(([n, m]) => `${n} ${m} ms (first byte ${firstByteMedians[n]} ms)`).join(', ')}`);
  return { query, series: reference?.series ?? 0, points: reference?.points ?? 0, medians, firstByteMedians, runs: times, matchesPrometheus };
}

function report(
  rows: QueryRow[], engines: Engine[], skipped: Record<string, string>, w: BenchWorkload, runs: number, file: string,
): BenchRow[] {
  const names = engines.map((e) => e.name);
  const geomeans = Object.fromEntries(names.map((n) => [n, round2(geomean(rows.map((r) => r.medians[n])))]));
  const table = [
    `| query (range ${w.shape.hours} h, step ${STEP_SECONDS} s) | points | ${names.join(' | ')} |`,
    `| --- | ---: | ${names.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| \`${r.query.replace(/\|/g, '\\|')}\` | ${r.points.toLocaleString('en-US')} | ${names.map((n) => `${r.medians[n]} ms`).join(' | ')} |`),
    `| **geometric mean** | | ${names.map((n) => `**${geomeans[n]} ms**`).join(' | ')} |`,
  ].join('\n');
  console.log(table);
  for (const [name, reason] of Object.entries(skipped)) console.log(`(${name} skipped: ${reason})`);

  const benchRows: BenchRow[] = [];
  for (const r of rows) {
    for (const n of names) benchRows.push({ name: `${n}: ${r.query}`, value: r.medians[n], unit: 'ms', note: `${r.series} series, ${r.points} points` });
  }
  for (const n of names) benchRows.push({ name: `${n}: geometric mean`, value: geomeans[n], unit: 'ms' });
  writeFileSync(file, JSON.stringify({
    suite: 'promql',
    machine: machine(),
    workload: { series: w.series.length, hours: w.shape.hours, samples: w.samples, scrapeIntervalSeconds: 30, stepSeconds: STEP_SECONDS },
    method: `query_range over HTTP, sequential requests on one keep-alive connection; 2 warm-ups then ${runs} rounds (engines take turns); median per query`,
    engines: Object.fromEntries(engines.map((e) => [e.name, { loadSeconds: e.loadSeconds }])),
    skipped,
    queries: rows.map((r) => ({
      query: r.query, series: r.series, points: r.points, matchesPrometheus: r.matchesPrometheus,
      medianMs: r.medians, medianFirstByteMs: r.firstByteMedians, runsMs: r.runs,
    })),
    geometricMeanMs: geomeans,
    table,
    rows: benchRows,
  }, null, 2) + '\n');
  log(`wrote ${file}`);
  return benchRows;
}

/** Two matrices with the same label sets, times, and values within 1e-9 relative (NaN equal to NaN). */
function sameMatrix(a: Buffer, b: Buffer): boolean {
  type Matrix = { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  const index = (body: Buffer) => {
    const out = new Map<string, [number, string][]>();
    for (const s of (JSON.parse(body.toString()) as Matrix).data.result) {
      out.set(JSON.stringify(Object.entries(s.metric).sort(([x], [y]) => (x < y ? -1 : 1))), s.values);
    }
    return out;
  };
  const x = index(a);
  const y = index(b);
  if (x.size !== y.size) return false;
  const num = (s: string) => (s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s));
  for (const [key, values] of x) {
    const other = y.get(key);
    if (!other || other.length !== values.length) return false;
    for (let i = 0; i < values.length; i++) {
      if (values[i][0] !== other[i][0]) return false;
      const p = num(values[i][1]);
      const q = num(other[i][1]);
      if (p === q || (Number.isNaN(p) && Number.isNaN(q))) continue;
      if (!(Math.abs(p - q) / Math.max(Math.abs(p), Math.abs(q)) <= 1e-9)) return false;
    }
  }
  return true;
}

/** Series and points of a query_range answer. */
function resultShape(body: Buffer): { series: number; points: number } {
  const parsed = JSON.parse(body.toString()) as { data: { result: { values: unknown[] }[] } };
  let points = 0;
  for (const s of parsed.data.result) points += s.values.length;
  return { series: parsed.data.result.length, points };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function log(msg: string): void {
  process.stderr.write(`promql bench: ${msg}\n`);
}

function optionsFromArgv(): PromqlBenchOptions {
  const argv = process.argv.slice(2);
  const runsArg = argv.find((a) => a.startsWith('--runs='));
  const enginesArg = argv.find((a) => a.startsWith('--engines='));
  const outArg = argv.find((a) => a.startsWith('--out='));
  return {
    resultsFile: outArg ? outArg.slice('--out='.length) : undefined,
    quick: argv.includes('--quick') || process.env.STRATA_BENCH_QUICK === '1',
    runs: runsArg ? Number(runsArg.slice('--runs='.length)) : undefined,
    engines: enginesArg ? (enginesArg.slice('--engines='.length).split(',') as PromqlBenchOptions['engines']) : undefined,
  };
}

if (isMain(import.meta.url)) await runPromqlBench();
