/**
 * The ingest benchmark's data, deterministic: `series` series of `samplesPerSeries` samples
 * each, one per second, spread over 10 metric names with host/region/instance labels, and
 * values 1..4 (integers, so per-series sums are exact). Encoded, before any timing, as every
 * client would send it: strata series batches (msgpack), strata metric events (msgpack,
 * batches of 10k), and VictoriaMetrics /api/v1/import JSON lines (per series or per sample).
 * Both systems get the same samples cut into bodies of the same sample counts.
 */
import { Packr, pack } from 'msgpackr';

export interface WorkloadShape {
  series: number;
  samplesPerSeries: number;
  /** Samples of one series in one series body (rounds = samplesPerSeries / this). */
  samplesPerRound: number;
  /** Series per series body. */
  seriesPerBody: number;
  /** Events per event body. */
  eventsPerBody: number;
}

export interface SeriesDef {
  metric: string;
  labels: Record<string, string>;
}

export const METRIC_PREFIX = 'bench_ingest_';
const METRICS = 10;

export class Workload {
  readonly seriesDefs: SeriesDef[];
  /** First sample, epoch ms: whole minutes, two hours back (inside the default TTL). */
  readonly startMs: number;

  /** `metricPrefix`: the warm-up traffic uses its own names, which the timed count leaves out. */
  constructor(readonly shape: WorkloadShape, now = Date.now(), readonly metricPrefix = METRIC_PREFIX) {
    this.startMs = Math.floor(now / 60_000) * 60_000 - 2 * 3600_000;
    this.seriesDefs = Array.from({ length: shape.series }, (_, i) => ({
      metric: `${metricPrefix}${i % METRICS}`,
      labels: { host: `host-${i % 200}`, region: `region-${i % 7}`, instance: `i-${i}` },
    }));
  }

  get totalSamples(): number {
    return this.shape.series * this.shape.samplesPerSeries;
  }

  get endMs(): number {
    return this.startMs + (this.shape.samplesPerSeries - 1) * 1000;
  }

  timestamp(sample: number): number {
    return this.startMs + sample * 1000;
  }

  value(series: number, sample: number): number {
    return 1 + ((series + sample) % 4);
  }

  /** Sum of every value of a series: what a complete series adds up to. */
  expectedSum(series: number): number {
    let sum = 0;
    for (let k = 0; k < this.shape.samplesPerSeries; k++) sum += this.value(series, k);
    return sum;
  }

  /** (round, first series) of every body of the series shapes, rounds in time order. */
  private *seriesChunks(): Generator<{ from: number; to: number; series: number; seriesEnd: number }> {
    const { series, samplesPerSeries, samplesPerRound, seriesPerBody } = this.shape;
    for (let from = 0; from < samplesPerSeries; from += samplesPerRound) {
      const to = Math.min(samplesPerSeries, from + samplesPerRound);
      for (let s = 0; s < series; s += seriesPerBody) yield { from, to, series: s, seriesEnd: Math.min(series, s + seriesPerBody) };
    }
  }

  /** strata series batches: Float64Array columns (msgpackr moreTypes), as a high-volume client sends. */
  strataSeriesBodies(): Uint8Array[] {
    const packr = new Packr({ moreTypes: true });
    const bodies: Uint8Array[] = [];
    for (const c of this.seriesChunks()) {
      const series = [];
      for (let s = c.series; s < c.seriesEnd; s++) {
        const n = c.to - c.from;
        const timestamps = new Float64Array(n);
        const values = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          timestamps[k] = this.timestamp(c.from + k);
          values[k] = this.value(s, c.from + k);
        }
        series.push({ metric: this.seriesDefs[s]!.metric, labels: this.seriesDefs[s]!.labels, timestamps, values });
      }
      bodies.push(packr.pack({ series }));
    }
    return bodies;
  }

  /** VictoriaMetrics import lines, one per series per body: `{"metric":{…},"values":[…],"timestamps":[…]}`. */
  vmSeriesBodies(): string[] {
    const bodies: string[] = [];
    for (const c of this.seriesChunks()) {
      const lines: string[] = [];
      for (let s = c.series; s < c.seriesEnd; s++) {
        const values: number[] = [];
        const timestamps: number[] = [];
        for (let k = c.from; k < c.to; k++) {
          values.push(this.value(s, k));
          timestamps.push(this.timestamp(k));
        }
        lines.push(JSON.stringify({ metric: this.vmMetric(s), values, timestamps }));
      }
      bodies.push(lines.join('\n') + '\n');
    }
    return bodies;
  }

  /** Samples in arrival order (time-major: every series' sample k, then k + 1), `eventsPerBody` at a time. */
  private *sampleChunks(): Generator<[series: number, sample: number][]> {
    const { series, samplesPerSeries, eventsPerBody } = this.shape;
    let chunk: [number, number][] = [];
    for (let k = 0; k < samplesPerSeries; k++) {
      for (let s = 0; s < series; s++) {
        chunk.push([s, k]);
        if (chunk.length === eventsPerBody) {
          yield chunk;
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /** strata metric events, `{events: [...]}` in plain msgpack; trace/span ids shared by runs of samples. */
  strataEventBodies(): Uint8Array[] {
    const bodies: Uint8Array[] = [];
    let n = 0;
    for (const chunk of this.sampleChunks()) {
      const events = chunk.map(([s, k]) => {
        const def = this.seriesDefs[s]!;
        n++;
        return {
          type: 'metric', trace_id: `trace-${Math.floor(n / 100)}`, span_id: `span-${Math.floor(n / 10)}`,
          timestamp: this.timestamp(k), metric: def.metric, value: this.value(s, k), unit: 'ms', attributes: def.labels,
        };
      });
      bodies.push(pack({ events }));
    }
    return bodies;
  }

  /** VictoriaMetrics import lines, one per sample. */
  vmSampleBodies(): string[] {
    const bodies: string[] = [];
    const metricJson = this.seriesDefs.map((_, s) => JSON.stringify(this.vmMetric(s)));
    for (const chunk of this.sampleChunks()) {
      let body = '';
      for (const [s, k] of chunk) body += `{"metric":${metricJson[s]},"values":[${this.value(s, k)}],"timestamps":[${this.timestamp(k)}]}\n`;
      bodies.push(body);
    }
    return bodies;
  }

  private vmMetric(series: number): Record<string, string> {
    const def = this.seriesDefs[series]!;
    return { __name__: def.metric, ...def.labels };
  }
}

/** Span workload: traces of `spansPerTrace` spans (a root and its children), start and end events. */
export function spanEventBodies(traces: number, spansPerTrace: number, spansPerBody: number, now = Date.now()): Uint8Array[] {
  const startMs = Math.floor(now / 60_000) * 60_000 - 3600_000;
  const bodies: Uint8Array[] = [];
  let events: object[] = [];
  const packr = new Packr({ useRecords: false });
  for (let t = 0; t < traces; t++) {
    const traceId = `trace-${t.toString(16).padStart(8, '0')}`;
    for (let s = 0; s < spansPerTrace; s++) {
      const spanId = `${traceId}-${s}`;
      const at = startMs + t * 10 + s;
      events.push({
        type: 'structured_log', trace_id: traceId, span_id: spanId, timestamp: at, attributes: { model: `m-${t % 4}`, session_id: `S${t % 500}` },
        payload: s === 0 ? { type: 'span_start', name: 'agent.turn' } : { type: 'span_start', name: 'inference', parent_span_id: `${traceId}-0` },
      });
      events.push({ type: 'structured_log', trace_id: traceId, span_id: spanId, timestamp: at + 5, payload: { type: 'span_end', status: 'ok' } });
      if (events.length >= spansPerBody * 2) {
        bodies.push(packr.pack({ events }));
        events = [];
      }
    }
  }
  if (events.length > 0) bodies.push(packr.pack({ events }));
  return bodies;
}
