/**
 * Resource limits (issue 6): caps that keep one client, one runaway label or one huge query
 * from taking the whole server down, each with an error that names the limit and a counter in
 * /metrics (`strata_limit_rejections_total{limit}`).
 *
 * Ingest limits are checked on the decoded batch, whole, before it reaches the WAL: a batch
 * over any limit is refused and nothing of it is applied.
 *
 * - Request content (400, like any bad value): labels per series, label name and value
 *   length (UTF-8 bytes; the metric name counts as a value), attributes per event and
 *   their total size (keys + values, UTF-8 bytes).
 * - Accumulated state (422): series cardinality (a batch that would create series beyond
 *   the cap), spans per trace. Batches on their way to the WAL hold a reservation for the
 *   series and spans they may create, so concurrent batches cannot overshoot a cap together.
 *
 * Query limits: points per query_metrics response (422, counted before the points are
 * built for raw queries), the PromQL engine's points per series (its own 400, configurable),
 * and concurrent queries (a semaphore: 503 with Retry-After when every slot is taken).
 */
import type { Store } from './store.ts';
import type { IngestBatch, SeriesEntry, EngineEvent } from './storage/events.ts';
import { metricEventLabels } from './storage/events.ts';
import type { Attributes } from './index/spans.ts';
import type { Matcher } from './index/matcher.ts';
import { ApiError } from './telemetry/errors.ts';
import type { MetricsRegistry, Counter } from './server/metrics-registry.ts';

export interface Limits {
  /** Live series in the registry; a batch that would create more is refused (422). */
  maxSeries: number;
  /** Labels per series, not counting the metric name (400). */
  maxLabels: number;
  /** UTF-8 bytes of a label name (400). */
  maxLabelNameBytes: number;
  /** UTF-8 bytes of a label value or metric name (400). */
  maxLabelValueBytes: number;
  /** Attributes per event (400). */
  maxAttributes: number;
  /** UTF-8 bytes of an event's attributes, keys and values together (400). */
  maxAttributeBytes: number;
  /** Spans in one trace; a batch that would start more is refused (422). */
  maxSpansPerTrace: number;
  /** Points in one query_metrics answer (422). */
  maxQueryPoints: number;
  /** Points per series of a PromQL range query (Prometheus' 11,000; 400). */
  maxPointsPerSeries: number;
  /** Queries answered at once; more get 503 + Retry-After. */
  maxConcurrentQueries: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxSeries: 1_000_000,
  maxLabels: 64,
  maxLabelNameBytes: 256,
  maxLabelValueBytes: 1024,
  maxAttributes: 256,
  maxAttributeBytes: 1024 * 1024,
  maxSpansPerTrace: 100_000,
  maxQueryPoints: 10_000_000,
  maxPointsPerSeries: 11_000,
  maxConcurrentQueries: 64,
};

export const LIMIT_NAMES = [
  'series', 'labels', 'label_name_bytes', 'label_value_bytes', 'attributes', 'attribute_bytes',
  'spans_per_trace', 'query_points', 'points_per_series', 'concurrent_queries',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

const LIMIT_KEYS: Record<LimitName, keyof Limits> = {
  series: 'maxSeries',
  labels: 'maxLabels',
  label_name_bytes: 'maxLabelNameBytes',
  label_value_bytes: 'maxLabelValueBytes',
  attributes: 'maxAttributes',
  attribute_bytes: 'maxAttributeBytes',
  spans_per_trace: 'maxSpansPerTrace',
  query_points: 'maxQueryPoints',
  points_per_series: 'maxPointsPerSeries',
  concurrent_queries: 'maxConcurrentQueries',
};

/** A refusal because of a limit: an ApiError (answered with its status) that knows which limit. */
export class LimitError extends ApiError {
  constructor(readonly limit: LimitName, status: number, detail: string, headers?: Readonly<Record<string, string>>) {
    super(status, detail, headers);
  }
}

/** Picks the limits out of anything that has them (the Config does), defaults for the rest. */
export function limitsFrom(source: Partial<Limits>): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const v = source[key];
    if (typeof v === 'number') out[key] = v;
  }
  return out;
}

/** The limit counters and gauges in /metrics, shared by the ingest and query limiters. */
export class LimitMetrics {
  private readonly rejections: Counter;

  constructor(registry: MetricsRegistry, limits: Limits) {
    registry.gauge({
      name: 'strata_limit',
      help: 'Configured resource limits, by limit.',
      labelNames: ['limit'],
      collect: (g) => { for (const name of LIMIT_NAMES) g.labels(name).set(limits[LIMIT_KEYS[name]]); },
    });
    this.rejections = registry.counter({
      name: 'strata_limit_rejections_total',
      help: 'Requests refused because of a resource limit, by limit.',
      labelNames: ['limit'],
    });
    // Every limit shows up, at 0, from the first scrape.
    for (const name of LIMIT_NAMES) this.rejections.labels(name);
  }

  rejected(limit: LimitName): void {
    this.rejections.labels(limit).inc();
  }
}

// ---------------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------------

/** Room held for a batch between its check and its apply. */
interface Reservation {
  series: number;
  spans: Map<string, number>;
}

export class IngestLimiter {
  /** Series that batches on their way to the WAL may create. */
  private pendingSeries = 0;
  /** Spans per trace that batches on their way to the WAL may start. */
  private readonly pendingSpans = new Map<string, number>();

  constructor(
    private readonly store: Store,
    readonly limits: Limits,
    private readonly metrics: LimitMetrics,
    registry?: MetricsRegistry,
  ) {
    registry?.gauge({
      name: 'strata_series',
      help: 'Live series in the series registry (capped by strata_limit{limit="series"}).',
      collect: (g) => g.set(store.series.size),
    });
  }

  /** `ingest` behind the limits: the batch is checked whole before `ingest` (WAL, apply) sees it. */
  wrap(ingest: (batch: IngestBatch) => Promise<void>): (batch: IngestBatch) => Promise<void> {
    return async (batch) => {
      const reservation = this.admit(batch);
      try {
        await ingest(batch);
      } finally {
        this.release(reservation);
      }
    };
  }

  /** Checks every limit on `batch`; throws a LimitError (nothing reserved) or returns the room it holds. */
  admit(batch: IngestBatch): Reservation {
    try {
      this.checkContent(batch);
      const series = this.newSeries(batch);
      const spans = this.newSpans(batch);
      this.pendingSeries += series;
      for (const [trace, n] of spans) this.pendingSpans.set(trace, (this.pendingSpans.get(trace) ?? 0) + n);
      return { series, spans };
    } catch (error) {
      if (error instanceof LimitError) this.metrics.rejected(error.limit);
      throw error;
    }
  }

  release(r: Reservation): void {
    this.pendingSeries -= r.series;
    for (const [trace, n] of r.spans) {
      const left = (this.pendingSpans.get(trace) ?? 0) - n;
      if (left > 0) this.pendingSpans.set(trace, left);
      else this.pendingSpans.delete(trace);
    }
  }

  private checkContent(batch: IngestBatch): void {
    this.checkSeriesLabels(batch.series);
    if (batch.columns) this.checkSeriesLabels(batch.columns.series);
    for (let i = 0; i < batch.events.length; i++) {
      const e = batch.events[i]!;
      if (e.attributes) this.checkAttributes(e.attributes, () => `events[${i}].attributes`);
      if (e.kind === 'metric') this.checkLabels(e.metric, metricEventLabels(e.attributes), () => `events[${i}] (metric ${quote(e.metric)})`);
    }
  }

  private checkSeriesLabels(series: readonly { metric: string; labels: Readonly<Record<string, string>>; labelsCheckedBy?: object | undefined }[]): void {
    for (let i = 0; i < series.length; i++) {
      const s = series[i]!;
      // Decoders hand out one header object per label set (header-cache.ts): checked once, not per batch.
      if (s.labelsCheckedBy === this) continue;
      this.checkLabels(s.metric, s.labels, () => `series[${i}] (metric ${quote(s.metric)})`);
      s.labelsCheckedBy = this;
    }
  }

  private checkLabels(metric: string, labels: Readonly<Record<string, string>>, at: () => string): void {
    const { maxLabels, maxLabelNameBytes, maxLabelValueBytes } = this.limits;
    if (exceedsBytes(metric, maxLabelValueBytes)) {
      throw new LimitError('label_value_bytes', 400, `${at()}: metric name is ${utf8Bytes(metric)} bytes, more than the label value limit of ${maxLabelValueBytes} bytes`);
    }
    let n = 0;
    for (const name in labels) {
      n++;
      if (exceedsBytes(name, maxLabelNameBytes)) {
        throw new LimitError('label_name_bytes', 400, `${at()}: label name ${quote(name)} is ${utf8Bytes(name)} bytes, more than the label name limit of ${maxLabelNameBytes} bytes`);
      }
      const value = labels[name]!;
      if (exceedsBytes(value, maxLabelValueBytes)) {
        throw new LimitError('label_value_bytes', 400, `${at()}: value of label ${quote(name)} is ${utf8Bytes(value)} bytes, more than the label value limit of ${maxLabelValueBytes} bytes`);
      }
    }
    if (n > maxLabels) throw new LimitError('labels', 400, `${at()}: ${n} labels, more than the limit of ${maxLabels} labels per series`);
  }

  private checkAttributes(attributes: Attributes, at: () => string): void {
    const { maxAttributes, maxAttributeBytes } = this.limits;
    let n = 0;
    // UTF-16 units: at most 3 UTF-8 bytes each, so bytes are only counted when that bound is over the limit.
    let units = 0;
    for (const key in attributes) {
      n++;
      const v = attributes[key];
      units += key.length + (typeof v === 'string' ? v.length : 8);
    }
    if (n > maxAttributes) throw new LimitError('attributes', 400, `${at()}: ${n} attributes, more than the limit of ${maxAttributes} attributes per event`);
    if (units * 3 <= maxAttributeBytes) return;
    let bytes = 0;
    for (const key in attributes) {
      const v = attributes[key];
      bytes += utf8Bytes(key) + (typeof v === 'string' ? utf8Bytes(v) : 8);
    }
    if (bytes > maxAttributeBytes) {
      throw new LimitError('attribute_bytes', 400, `${at()}: ${bytes} bytes of attributes, more than the limit of ${maxAttributeBytes} bytes per event`);
    }
  }

  /** How many series the batch may create; throws when that would pass the cap. */
  private newSeries(batch: IngestBatch): number {
    const max = this.limits.maxSeries;
    const entries = batch.series.length + (batch.columns?.series.length ?? 0) + countMetricEvents(batch.events);
    if (entries === 0) return 0;
    const live = this.store.series.size + this.pendingSeries;
    // Even if every entry were a new series the cap would hold: no lookups needed (the common case).
    if (live + entries <= max) return entries;
    const fresh = new Set<string>();
    const consider = (labels: Record<string, string>) => {
      if (this.store.series.lookup(labels) === undefined) fresh.add(canonicalKey(labels));
    };
    for (const s of batch.series) consider({ ...s.labels, __name__: s.metric });
    for (const s of batch.columns?.series ?? []) consider({ ...s.labels, __name__: s.metric });
    for (const e of batch.events) if (e.kind === 'metric') consider({ ...metricEventLabels(e.attributes), __name__: e.metric });
    if (fresh.size > 0 && live + fresh.size > max) {
      throw new LimitError('series', 422,
        `series limit of ${max} reached: the batch would create ${fresh.size} new series and ${this.store.series.size} exist` +
        (this.pendingSeries > 0 ? ` (${this.pendingSeries} more may be created by batches in flight)` : '') +
        '; nothing of the batch was applied (series expire with their samples\' TTL)');
    }
    return fresh.size;
  }

  /** Spans per trace the batch may start; throws when a trace would pass the cap. */
  private newSpans(batch: IngestBatch): Map<string, number> {
    const starts = new Map<string, number>();
    for (const e of batch.events) {
      if (e.kind === 'span_start') starts.set(e.traceId, (starts.get(e.traceId) ?? 0) + 1);
    }
    const out = new Map<string, number>();
    const max = this.limits.maxSpansPerTrace;
    for (const [trace, count] of starts) {
      const existing = this.store.spans.traceSpanCount(trace) + (this.pendingSpans.get(trace) ?? 0);
      let n = count;
      if (existing + n > max) {
        // Near the cap: count exactly (a repeated start, in the batch or already indexed, adds nothing).
        const fresh = new Set<string>();
        for (const e of batch.events) {
          if (e.kind === 'span_start' && e.traceId === trace && this.store.spans.find(e.spanId, -Infinity) === undefined) fresh.add(e.spanId);
        }
        n = fresh.size;
        if (existing + n > max) {
          throw new LimitError('spans_per_trace', 422,
            `trace ${quote(trace)}: spans per trace limit of ${max} reached (${existing} spans, ${n} more in the batch); nothing of the batch was applied`);
        }
      }
      if (n > 0) out.set(trace, n);
    }
    return out;
  }
}

function countMetricEvents(events: readonly EngineEvent[]): number {
  let n = 0;
  for (const e of events) if (e.kind === 'metric') n++;
  return n;
}


function canonicalKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** True when `s` is longer than `max` UTF-8 bytes; measures only when its length leaves a doubt. */
function exceedsBytes(s: string, max: number): boolean {
  if (s.length * 3 <= max) return false;
  if (s.length > max) return true;
  return Buffer.byteLength(s, 'utf8') > max;
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

export const QUERY_RETRY_AFTER_SECONDS = 1;

export class QueryLimiter {
  private running = 0;

  constructor(readonly limits: Limits, private readonly metrics: LimitMetrics, registry?: MetricsRegistry) {
    registry?.gauge({
      name: 'strata_queries_in_flight',
      help: 'Queries being answered now (capped by strata_limit{limit="concurrent_queries"}).',
      collect: (g) => g.set(this.running),
    });
  }

  get inFlight(): number {
    return this.running;
  }

  /** Takes a query slot; throws the 503 when none is free. The returned function gives it back (once). */
  acquire(): () => void {
    const max = this.limits.maxConcurrentQueries;
    if (this.running >= max) {
      this.metrics.rejected('concurrent_queries');
      throw new LimitError('concurrent_queries', 503,
        `too many concurrent queries: the limit of ${max} is reached; retry after ${QUERY_RETRY_AFTER_SECONDS} s`,
        { 'retry-after': String(QUERY_RETRY_AFTER_SECONDS) });
    }
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
    };
  }

  /** Runs `work` in a query slot. */
  async run<T>(work: () => T | Promise<T>): Promise<T> {
    const release = this.acquire();
    try {
      return await work();
    } catch (error) {
      // The PromQL routes refuse too many points per series themselves.
      if (error instanceof LimitError && error.limit === 'points_per_series') this.notePointsPerSeries();
      throw error;
    } finally {
      release();
    }
  }

  /** Throws the 422 when a query would answer with more than maxQueryPoints points. */
  checkPoints(points: number, what = 'query'): void {
    const max = this.limits.maxQueryPoints;
    if (points > max) {
      this.metrics.rejected('query_points');
      throw new LimitError('query_points', 422,
        `${what} would return ${points} points, more than the limit of ${max} points per query: narrow the time range or the label matchers, or use a coarser granularity`);
    }
  }

  /** Counts a PromQL points-per-series refusal (the engine itself throws it). */
  notePointsPerSeries(): void {
    this.metrics.rejected('points_per_series');
  }
}

/**
 * Raw points a query_metrics query (granularity null or "") would return, counted without
 * building them, and a cap on the points of any query_metrics answer.
 */
export function countRawPoints(store: Store, matchers: Matcher[], minTs: number, maxTs: number): number {
  let n = 0;
  for (const id of store.selectSeries(matchers)) {
    store.visitSeries(id, minTs, maxTs, (_ts, _v, s, e) => { n += e - s; });
  }
  return n;
}
