/**
 * A deterministic metrics workload for the Prometheus parity test: scrape targets
 * (service × instance) at 15, 30 or 60 s with jitter and outages, exporting
 *   strata_http_requests_total{code}      counters with occasional resets
 *   strata_memory_bytes{pod}              gauges (random walks)
 *   strata_queue_depth                    gauge with occasional NaN and negative values
 *   strata_up                             0/1 gauge (0 during outages)
 *   strata_request_duration_seconds_*     a classic histogram (_bucket{le}, _sum, _count)
 * The same samples go to OpenMetrics text (for promtool) and to SeriesData (for our engine).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { SeriesData } from '../../src/promql/source.ts';
import { mulberry32 as prng } from '../../bench/random.ts';

export const WORKLOAD_START_MS = Date.UTC(2024, 0, 1, 0, 0, 0);
export const WORKLOAD_HOURS = 3;
export const WORKLOAD_END_MS = WORKLOAD_START_MS + WORKLOAD_HOURS * 3_600_000;

const SERVICES = ['api', 'auth', 'billing', 'search'];
const INSTANCES_PER_SERVICE = 25;
const CODES = ['200', '404', '500'];
const PODS = 8;
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];

interface SeriesBuilder {
  labels: Record<string, string>;
  /** The generated times, as written to the OpenMetrics text. */
  writtenMs: number[];
  values: number[];
}

export interface Workload {
  /** The samples as Prometheus stores them after reading the OpenMetrics text. */
  series: SeriesData[];
  sampleCount: number;
  /** Writes the OpenMetrics text: samples of one metric name together, then `# EOF`. */
  writeOpenMetrics(path: string): void;
}

export function generateWorkload(): Workload {
  const random = prng(42);
  const byName = new Map<string, SeriesBuilder[]>();
  const builder = (labels: Record<string, string>): SeriesBuilder => {
    const b: SeriesBuilder = { labels, writtenMs: [], values: [] };
    const list = byName.get(labels.__name__) ?? [];
    list.push(b);
    byName.set(labels.__name__, list);
    return b;
  };

  let target = 0;
  for (const service of SERVICES) {
    for (let i = 0; i < INSTANCES_PER_SERVICE; i++, target++) {
      const base = { service, instance: `10.0.${SERVICES.indexOf(service)}.${i}:9100` };
      const intervalMs = [15_000, 30_000, 60_000][target % 3];
      const offsetMs = Math.floor(random() * intervalMs);
      const outageStart = target % 7 === 0 ? WORKLOAD_START_MS + (40 + (target % 5) * 20) * 60_000 : Infinity;
      const outageEnd = outageStart + (10 + (target % 3) * 15) * 60_000;

      const requests = CODES.map((code) => ({ b: builder({ __name__: 'strata_http_requests_total', ...base, code }), value: random() * 1000 }));
      const memory = Array.from({ length: PODS }, (_, p) => ({
        b: builder({ __name__: 'strata_memory_bytes', ...base, pod: `p${p}` }),
        value: 2e8 + random() * 6e8,
      }));
      const queue = { b: builder({ __name__: 'strata_queue_depth', ...base }), value: 0 };
      const up = builder({ __name__: 'strata_up', ...base });
      const buckets = BUCKETS.map((le) => builder({ __name__: 'strata_request_duration_seconds_bucket', ...base, le }));
      const hSum = builder({ __name__: 'strata_request_duration_seconds_sum', ...base });
      const hCount = builder({ __name__: 'strata_request_duration_seconds_count', ...base });
      const bucketCounts = BUCKETS.map(() => 0);
      let latencySum = 0;

      for (let t = WORKLOAD_START_MS + offsetMs; t <= WORKLOAD_END_MS; t += intervalMs) {
        const ts = t + Math.floor(random() * 400) - 200;
        if (ts >= outageStart && ts < outageEnd) continue;
        const restarted = random() < 0.004;
        for (const r of requests) {
          r.value = restarted ? Math.floor(random() * 5) : r.value + Math.floor(random() * 50) * (r.b.labels.code === '200' ? 10 : 1);
          add(r.b, ts, r.value);
        }
        for (const m of memory) {
          m.value = Math.max(1e8, m.value + (random() - 0.5) * 2e7);
          add(m.b, ts, Math.round(m.value));
        }
        queue.value = Math.round(queue.value + (random() - 0.45) * 20);
        // `+ 0` turns a rounded -0 into 0: the OpenMetrics text cannot carry the sign of zero.
        add(queue.b, ts, random() < 0.01 ? NaN : queue.value + 0);
        add(up, ts, ts < outageEnd && ts >= outageStart - 5 * 60_000 && random() < 0.5 ? 0 : 1);
        if (restarted) {
          bucketCounts.fill(0);
          latencySum = 0;
        }
        const observations = Math.floor(random() * 40);
        for (let o = 0; o < observations; o++) {
          const latency = Math.exp(random() * 7 - 6);
          latencySum += latency;
          BUCKETS.forEach((le, k) => {
            if (latency <= Number(le === '+Inf' ? Infinity : le)) bucketCounts[k]++;
          });
        }
        buckets.forEach((b, k) => add(b, ts, bucketCounts[k]));
        add(hSum, ts, latencySum);
        add(hCount, ts, bucketCounts[bucketCounts.length - 1]);
      }
    }
  }

  const builders = [...byName.values()].flat();
  return {
    series: builders.map((b) => ({
      labels: b.labels,
      timestamps: Float64Array.from(b.writtenMs, (ms) => Math.trunc(Number(secondsText(ms)) * 1000)),
      values: Float64Array.from(b.values),
    })),
    sampleCount: builders.reduce((n, b) => n + b.values.length, 0),
    writeOpenMetrics(path: string) {
      const fd = openSync(path, 'w');
      try {
        for (const b of builders) writeSync(fd, openMetricsLines(b));
        writeSync(fd, '# EOF\n');
      } finally {
        closeSync(fd);
      }
    },
  };
}

function add(b: SeriesBuilder, ms: number, value: number): void {
  b.writtenMs.push(ms);
  b.values.push(value);
}

/**
 * A time as OpenMetrics seconds with milliseconds. Prometheus reads it back as
 * int64(seconds * 1000), which can land a millisecond early; the series we hand our engine
 * are converted the same way, so both sides hold exactly the same instants.
 */
function secondsText(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
}

function openMetricsLines(b: SeriesBuilder): string {
  const labelText = Object.entries(b.labels)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const prefix = `${b.labels.__name__}{${labelText}} `;
  let out = '';
  for (let i = 0; i < b.values.length; i++) out += `${prefix}${formatValue(b.values[i])} ${secondsText(b.writtenMs[i])}\n`;
  return out;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}
