/**
 * The facade over the engine: owns the tables, the series registry and postings, the
 * span index and the lifecycle (seal, TTL sweep). Ingest hands it validated batches;
 * queries read through it. It knows nothing of HTTP, Llama Stack or PromQL.
 */
import { SpanIndex, type Attributes, type SpanStartInput } from './index/spans.ts';
import { SeriesRegistry, type Labels } from './index/series.ts';
import type { Matcher } from './index/matcher.ts';
import { systemClock, type Clock } from './storage/clock.ts';
import type { EngineEvent, IngestBatch, MetricEvent, SeriesEntry, SpanEndEvent, SpanStartEvent, LogEvent } from './storage/events.ts';
import { MetricTable, type TableLimits } from './storage/metric-table.ts';
import type { MetricSegment, SliceVisitor } from './storage/metric-segment.ts';
import { RowTable } from './storage/row-table.ts';
import type { RowSegment } from './storage/row-segment.ts';
import { LOG_COLUMNS, SPAN_EVENT_COLUMNS, SPAN_EVENT_KIND, SPAN_STATUS_CODE } from './storage/tables.ts';

export interface StoreOptions {
  limits?: Partial<TableLimits>;
  clock?: Clock;
}

export const DEFAULT_LIMITS: TableLimits = { maxHeadRows: 1_000_000, maxHeadAgeMicros: 60_000_000 };

/** What a seal produced, handed to whoever persists segments. */
export interface SealedSegments {
  metrics: MetricSegment | null;
  spanEvents: RowSegment | null;
  logs: RowSegment | null;
}

export interface DroppedSegments {
  metrics: MetricSegment[];
  spanEvents: RowSegment[];
  logs: RowSegment[];
}

export class Store {
  readonly clock: Clock;
  readonly limits: TableLimits;
  readonly series = new SeriesRegistry();
  readonly spans = new SpanIndex();
  readonly metrics: MetricTable;
  readonly spanEvents: RowTable;
  readonly logs: RowTable;
  /** Counters for /metrics. */
  readonly counters = { eventsIngested: 0, samplesIngested: 0, segmentsSealed: 0, segmentsDropped: 0 };

  constructor(opts: StoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.metrics = new MetricTable(this.limits, this.clock);
    this.spanEvents = new RowTable('span_events', SPAN_EVENT_COLUMNS, this.limits, this.clock);
    this.logs = new RowTable('logs', LOG_COLUMNS, this.limits, this.clock);
  }

  /** Applies a validated batch to the heads and indexes (after it is durable). */
  apply(batch: IngestBatch): void {
    const ttl = batch.ttlSeconds * 1_000_000;
    for (const e of batch.events) this.applyEvent(e, ttl);
    for (const s of batch.series) this.applySeries(s, ttl);
    this.counters.eventsIngested += batch.events.length;
  }

  private applyEvent(e: EngineEvent, ttl: number): void {
    switch (e.kind) {
      case 'metric': return this.applyMetric(e, ttl);
      case 'log': return this.applyLog(e, ttl);
      case 'span_start': return this.applySpanStart(e, ttl);
      case 'span_end': return this.applySpanEnd(e, ttl);
    }
  }

  private applyMetric(e: MetricEvent, ttl: number): void {
    const id = this.series.getOrCreate(metricLabels(e.metric, e.attributes), e.unit);
    this.metrics.append(id, e.ts, e.value, ttl, e.traceId, e.spanId);
    this.series.noteExpiry(id, e.ts + ttl);
    this.counters.samplesIngested++;
  }

  private applySeries(s: SeriesEntry, ttl: number): void {
    const id = this.series.getOrCreate({ ...s.labels, __name__: s.metric }, s.unit ?? '');
    this.metrics.appendMany(id, s.timestamps, s.values, ttl, s.traceIds, s.spanIds);
    let maxTs = -Infinity;
    for (let i = 0; i < s.timestamps.length; i++) if (s.timestamps[i] > maxTs) maxTs = s.timestamps[i];
    this.series.noteExpiry(id, maxTs + ttl);
    this.counters.samplesIngested += s.timestamps.length;
  }

  private applyLog(e: LogEvent, ttl: number): void {
    this.logs.append({
      ts: e.ts, expiry: e.ts + ttl, trace_id: e.traceId, span_id: e.spanId,
      severity: e.severity, message: e.message, attributes: attributesJson(e.attributes),
    });
  }

  private applySpanStart(e: SpanStartEvent, ttl: number): void {
    const input = spanStartInput(e, e.ts + ttl);
    this.spanEvents.append({
      ts: e.ts, expiry: input.expiry, kind: SPAN_EVENT_KIND.start, trace_id: e.traceId, span_id: e.spanId,
      parent_span_id: input.parentSpanId, name: e.name, attributes: attributesJson(input.attributes),
    });
    this.spans.addStart(input);
  }

  private applySpanEnd(e: SpanEndEvent, ttl: number): void {
    this.spanEvents.append({
      ts: e.ts, expiry: e.ts + ttl, kind: SPAN_EVENT_KIND.end, trace_id: e.traceId, span_id: e.spanId,
      status: SPAN_STATUS_CODE[e.status], attributes: attributesJson(e.attributes),
    });
    this.spans.addEnd({ traceId: e.traceId, spanId: e.spanId, ts: e.ts, expiry: e.ts + ttl, status: e.status, attributes: e.attributes });
  }

  // ---- metric reads ----

  selectSeries(matchers: Matcher[]): Uint32Array {
    return this.series.postings.select(matchers);
  }

  visitSeries(seriesId: number, minTs: number, maxTs: number, visit: SliceVisitor): void {
    this.metrics.visitSeries(seriesId, minTs, maxTs, visit, this.clock());
  }

  // ---- lifecycle ----

  needsSeal(): boolean {
    const now = this.clock();
    return this.metrics.shouldSeal(now) || this.spanEvents.shouldSeal(now) || this.logs.shouldSeal(now);
  }

  /**
   * Seals every non-empty head at once, so that after a seal no row lives only in the
   * WAL files written before it: that is what lets those files be deleted.
   */
  sealAll(): SealedSegments {
    const sealed = { metrics: this.metrics.seal(), spanEvents: this.spanEvents.seal(), logs: this.logs.seal() };
    this.counters.segmentsSealed += Number(!!sealed.metrics) + Number(!!sealed.spanEvents) + Number(!!sealed.logs);
    return sealed;
  }

  /** Drops fully expired segments and forgets expired series and spans. */
  dropExpired(): DroppedSegments {
    const now = this.clock();
    const dropped = { metrics: this.metrics.dropExpired(now), spanEvents: this.spanEvents.dropExpired(now), logs: this.logs.dropExpired(now) };
    this.series.removeExpired(now);
    this.spans.removeExpired(now);
    this.counters.segmentsDropped += dropped.metrics.length + dropped.spanEvents.length + dropped.logs.length;
    return dropped;
  }
}

/** A metric event's series: its name plus its attributes as labels (values stringified, `__*` keys and nulls left out). */
export function metricLabels(metric: string, attributes: Attributes | undefined): Labels {
  const labels: Labels = { __name__: metric };
  if (attributes) {
    for (const k in attributes) {
      const v = attributes[k];
      if (k.startsWith('__') || v === null || v === undefined) continue;
      labels[k] = String(v);
    }
  }
  return labels;
}

function attributesJson(attributes: Attributes | undefined): string | null {
  return attributes && Object.keys(attributes).length ? JSON.stringify(attributes) : null;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/**
 * The span index's view of a start event: a W3C `traceparent` supplies the parent
 * when none is given, and trace-context attributes are not kept as attributes.
 */
export function spanStartInput(e: SpanStartEvent, expiry: number): SpanStartInput {
  let parentSpanId = e.parentSpanId || undefined;
  let attributes = e.attributes;
  if (attributes && ('traceparent' in attributes || 'tracestate' in attributes)) {
    const { traceparent, tracestate: _ignored, ...rest } = attributes;
    attributes = rest;
    const m = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent.trim().toLowerCase()) : null;
    if (!parentSpanId && m) parentSpanId = m[2];
  }
  return { traceId: e.traceId, spanId: e.spanId, parentSpanId, name: e.name, ts: e.ts, expiry, attributes };
}
