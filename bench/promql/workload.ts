/**
 * The PromQL benchmark's data, deterministic (seeded PRNG): `targets` scrape targets
 * (job × instance), each scraped every 30 s over `hours` hours, exporting
 *
 *   bench_requests_total{job, instance, code}        5 counters (occasional resets)
 *   bench_memory_bytes{job, instance, pod}           5 gauges (random walks)
 *   bench_request_duration_seconds_bucket{…, le}     a 12-bucket histogram, + _sum, _count
 *   bench_up{job, instance}                          0/1
 *
 * i.e. 25 series per target: 200 targets give 5,000 series (× 1,440 samples in 12 h =
 * 7.2 M samples). The same samples are written for every engine: OpenMetrics text for
 * promtool, JSON lines for VictoriaMetrics' /api/v1/import, SeriesData for strata's
 * msgpack series batches. Values are integers or short decimals, so every format carries
 * them exactly.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { SeriesData } from '../../src/promql/source.ts';
import { mulberry32 as prng } from '../random.ts';

export interface BenchShape {
  /** Scrape targets; 25 series each. */
  targets: number;
  hours: number;
}

export const FULL_SHAPE: BenchShape = { targets: 200, hours: 12 };
export const QUICK_SHAPE: BenchShape = { targets: 40, hours: 3 };

export const SCRAPE_INTERVAL_MS = 30_000;
/**
 * The first sample: a multiple of 18 h, so that promtool (blocks of up to 18 h with
 * --max-block-duration) writes the whole workload into one block, as a long-running
 * Prometheus would have compacted it.
 */
export const BENCH_START_MS = Math.ceil(Date.UTC(2024, 2, 1) / 64_800_000) * 64_800_000;

const CODES = ['200', '201', '404', '500', '503'];
const PODS = 5;
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const JOBS = 10;

export interface BenchWorkload {
  shape: BenchShape;
  startMs: number;
  endMs: number;
  series: SeriesData[];
  samples: number;
}

export function generateBenchWorkload(shape: BenchShape): BenchWorkload {
  const random = prng(20240301);
  const endMs = BENCH_START_MS + shape.hours * 3_600_000;
  const perSeries = Math.floor((endMs - BENCH_START_MS) / SCRAPE_INTERVAL_MS);
  const series: SeriesData[] = [];
  const make = (labels: Record<string, string>) => {
    const s = { labels, timestamps: new Float64Array(perSeries), values: new Float64Array(perSeries) };
    series.push(s);
    return s;
  };
  for (let target = 0; target < shape.targets; target++) {
    const base = { job: `job-${target % JOBS}`, instance: `10.1.${Math.floor(target / JOBS)}.${target % JOBS}:9100` };
    // Whole seconds: every format carries the times exactly.
    const offsetMs = Math.floor(random() * (SCRAPE_INTERVAL_MS / 1000)) * 1000;
    const requests = CODES.map((code) => ({ s: make({ __name__: 'bench_requests_total', ...base, code }), v: Math.floor(random() * 10_000) }));
    const memory = Array.from({ length: PODS }, (_, p) => ({ s: make({ __name__: 'bench_memory_bytes', ...base, pod: `pod-${p}` }), v: 1e8 + Math.floor(random() * 9e8) }));
    const buckets = BUCKETS.map((le) => make({ __name__: 'bench_request_duration_seconds_bucket', ...base, le }));
    const sum = make({ __name__: 'bench_request_duration_seconds_sum', ...base });
    const count = make({ __name__: 'bench_request_duration_seconds_count', ...base });
    const up = make({ __name__: 'bench_up', ...base });
    const counts = BUCKETS.map(() => 0);
    let latencyMs = 0;
    for (let i = 0; i < perSeries; i++) {
      const t = BENCH_START_MS + offsetMs + i * SCRAPE_INTERVAL_MS;
      const reset = random() < 0.001;
      for (const r of requests) {
        r.v = reset ? 0 : r.v + Math.floor(random() * (r.s.labels.code === '200' ? 500 : 20));
        put(r.s, i, t, r.v);
      }
      for (const m of memory) {
        m.v = Math.max(5e7, m.v + Math.floor((random() - 0.5) * 4e6));
        put(m.s, i, t, m.v);
      }
      if (reset) {
        counts.fill(0);
        latencyMs = 0;
      }
      const observations = Math.floor(random() * 30);
      for (let o = 0; o < observations; o++) {
        const ms = Math.floor(Math.exp(random() * 9 - 4) * 1000) / 1000;
        latencyMs += Math.round(ms * 1000);
        for (let k = 0; k < BUCKETS.length; k++) if (k === BUCKETS.length - 1 || ms / 1000 <= Number(BUCKETS[k])) counts[k]++;
      }
      buckets.forEach((b, k) => put(b, i, t, counts[k]));
      put(sum, i, t, latencyMs / 1e6);
      put(count, i, t, counts[counts.length - 1]);
      put(up, i, t, random() < 0.002 ? 0 : 1);
    }
  }
  return { shape, startMs: BENCH_START_MS, endMs, series, samples: series.length * perSeries };
}

function put(s: SeriesData, i: number, t: number, v: number): void {
  s.timestamps[i] = t;
  s.values[i] = v;
}

/** OpenMetrics text (for promtool), streamed to `path`. */
export function writeOpenMetrics(w: BenchWorkload, path: string): void {
  const fd = openSync(path, 'w');
  try {
    // One metric family's samples together, as OpenMetrics requires.
    const byName = new Map<string, SeriesData[]>();
    for (const s of w.series) {
      const list = byName.get(s.labels.__name__) ?? [];
      list.push(s);
      byName.set(s.labels.__name__, list);
    }
    for (const list of byName.values()) {
      for (const s of list) {
        const prefix = `${s.labels.__name__}{${Object.entries(s.labels).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${v}"`).join(',')}} `;
        let chunk = '';
        for (let i = 0; i < s.timestamps.length; i++) {
          chunk += `${prefix}${s.values[i]} ${s.timestamps[i] / 1000}\n`;
        }
        writeSync(fd, chunk);
      }
    }
    writeSync(fd, '# EOF\n');
  } finally {
    closeSync(fd);
  }
}

/** VictoriaMetrics /api/v1/import JSON lines, one line per series, in bodies of about `seriesPerBody` lines. */
export function* victoriaMetricsImportBodies(w: BenchWorkload, seriesPerBody = 200): Generator<string> {
  let body = '';
  let n = 0;
  for (const s of w.series) {
    body += JSON.stringify({ metric: s.labels, values: Array.from(s.values), timestamps: Array.from(s.timestamps) }) + '\n';
    if (++n === seriesPerBody) {
      yield body;
      body = '';
      n = 0;
    }
  }
  if (body) yield body;
}
