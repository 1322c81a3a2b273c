/**
 * The facade over the engine: owns the tables, the series registry and postings, the
 * span index and the lifecycle (seal, TTL sweep, durability). Ingest hands it validated
 * batches; queries read through it. It knows nothing of HTTP, Llama Stack or PromQL.
 *
 * `new Store()` is in-memory only. `Store.open({dataDir})` is durable: `ingest` appends
 * each batch to the WAL before applying it, and `maintain` (on a timer) seals heads,
 * flushes segments to Parquet and deletes the WAL files they cover (a checkpoint).
 */
import { SpanIndex, type Attributes, type SpanStartInput } from './index/spans.ts';
import { raiseExpiry, SeriesRegistry, type Labels, type SeriesName } from './index/series.ts';
import type { Matcher } from './index/matcher.ts';
import { systemClock, type Clock } from './storage/clock.ts';
import type { EngineEvent, IngestBatch, MetricEvent, SeriesEntry, SpanEndEvent, SpanStartEvent, LogEvent } from './storage/events.ts';
import { metricEventLabels } from './storage/events.ts';
import type { RunIds } from './storage/metric-head.ts';
import { MetricTable, type TableLimits } from './storage/metric-table.ts';
import type { SeriesColumns } from './storage/series-columns.ts';
import type { MetricSegment, SliceVisitor } from './storage/metric-segment.ts';
import { RowTable } from './storage/row-table.ts';
import type { RowSegment } from './storage/row-segment.ts';
import { LOG_COLUMNS, SPAN_EVENT_COLUMNS, SPAN_EVENT_KIND, SPAN_STATUS_CODE } from './storage/tables.ts';
import { FlushPacer } from './storage/flush-pacer.ts';
import { Durability, type DurabilityStats, type TableMask } from './storage/durability.ts';
import type { FlushMode } from './storage/segment-writer.ts';
import { compactMetricSegment, compactRowSegment, inheritParts, mergeMetricSegments, mergeRowSegments, mergeSmallRuns } from './storage/compact.ts';
import { refeedSpanEvents } from './storage/span-rebuild.ts';
import type { FsyncPolicy } from './storage/wal.ts';

export type { DurabilityStats } from './storage/durability.ts';

export interface StoreOptions {
  limits?: Partial<TableLimits>;
  clock?: Clock;
}

export interface StoreOpenOptions extends StoreOptions {
  /** Directory of the WAL (`wal/`) and segment files (`segments/`); absent = in memory only. */
  dataDir?: string;
  /** WAL durability (see wal.ts). Default `always`. */
  fsync?: FsyncPolicy;
  /** `batch` policy: longest wait for an fsync, ms. */
  walBatchIntervalMs?: number;
  walMaxFileBytes?: number;
  /** Id in segment file names ([A-Za-z0-9_]{1,64}); default: generated once, kept in `<dataDir>/node-id`. */
  nodeId?: string;
  /** Period of the maintenance timer (seal when due, flush, checkpoint), ms; 0 = no timer. Default 1000. */
  maintenanceIntervalMs?: number;
  /**
   * The timer's flush waits until ingest has been quiet this long (ms, default 1000), but no
   * more than `flushMaxDelayMs` (default 10000) after it was first put off (flush-pacer.ts).
   */
  flushQuietMs?: number;
  flushMaxDelayMs?: number;
  /** How often the timer also runs the TTL sweep (it walks every series and span), ms. Default 30000. */
  sweepIntervalMs?: number;
  /** Where Parquet encoding runs: a worker thread (default) or chunked on this thread. */
  flushMode?: FlushMode;
  /** Warnings: torn WAL tails, skipped segment files, failed flushes. Default console.warn. */
  log?: (msg: string) => void;
}

const ALL_TABLES: TableMask = { metrics: true, spanEvents: true, logs: true };
const DEFAULT_MAINTENANCE_INTERVAL_MS = 1000;
const DEFAULT_SWEEP_INTERVAL_MS = 30_000;
const DEFAULT_FLUSH_QUIET_MS = 1000;
const DEFAULT_FLUSH_MAX_DELAY_MS = 10_000;

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
  readonly counters = { eventsIngested: 0, samplesIngested: 0, segmentsSealed: 0, segmentsDropped: 0, segmentsCompacted: 0, segmentsMerged: 0 };

  private durability: Durability | null = null;
  private maintenanceTimer: NodeJS.Timeout | null = null;
  /** When the timer's flush may start (stores with a data directory). */
  private flushPacer: FlushPacer | null = null;
  private closing: Promise<void> | null = null;

  constructor(opts: StoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.metrics = new MetricTable(this.limits, this.clock);
    this.spanEvents = new RowTable('span_events', SPAN_EVENT_COLUMNS, this.limits, this.clock);
    this.logs = new RowTable('logs', LOG_COLUMNS, this.limits, this.clock);
  }

  /**
   * Opens a store. With `dataDir`: loads the segment files (deleting expired ones), rebuilds
   * the span index from them, replays the WAL over them and opens it for appends.
   */
  static async open(opts: StoreOpenOptions = {}): Promise<Store> {
    const store = new Store(opts);
    if (opts.dataDir !== undefined) {
      const log = opts.log ?? ((msg: string) => console.warn(msg));
      store.durability = await Durability.open({ ...opts, dataDir: opts.dataDir, log }, store.replayTarget(), store.clock());
      store.dropExpired();
      store.flushPacer = new FlushPacer(opts.flushQuietMs ?? DEFAULT_FLUSH_QUIET_MS, opts.flushMaxDelayMs ?? DEFAULT_FLUSH_MAX_DELAY_MS);
    }
    const interval = opts.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_INTERVAL_MS;
    if (interval > 0) {
      const sweepEvery = Math.max(1, Math.round((opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS) / interval));
      let ticks = 0;
      store.maintenanceTimer = setInterval(() => store.tick(++ticks % sweepEvery === 0), interval);
      store.maintenanceTimer.unref();
    }
    return store;
  }

  private replayTarget() {
    return {
      series: this.series, metrics: this.metrics, spanEvents: this.spanEvents, logs: this.logs,
      afterLoad: () => {
        refeedSpanEvents(this.spanEvents.segments, this.spans);
        // As the running store's sweeps did: an expired span must not shadow a later start with its id.
        this.spans.removeExpired(this.clock());
      },
      applyTo: (batch: IngestBatch, tables: TableMask) => this.applyTo(batch, tables),
      afterReplayedBatch: () => {
        if (this.metrics.head.rows + this.spanEvents.headRows + this.logs.headRows >= this.limits.maxHeadRows) this.sealAll();
      },
    };
  }

  /**
   * Makes a validated batch durable (WAL, per the fsync policy) and then applies it; a
   * batch whose WAL append fails is not applied. In-memory stores just apply it.
   */
  async ingest(batch: IngestBatch): Promise<void> {
    if (this.closing) throw new Error('store is closed');
    this.flushPacer?.ingested();
    if (this.durability) await this.durability.ingest(batch, () => this.apply(batch));
    else this.apply(batch);
  }

  /** Applies a validated batch to the heads and indexes (after it is durable). */
  apply(batch: IngestBatch): void {
    this.applyTo(batch, ALL_TABLES);
  }

  private applyTo(batch: IngestBatch, tables: TableMask): void {
    const ttl = batch.ttlSeconds * 1_000_000;
    for (const e of batch.events) this.applyEvent(e, ttl, tables);
    if (tables.metrics && batch.series.length > 0) {
      // Each id dictionary is translated to head codes once per batch (the head does not seal mid-apply).
      const headCodes = new Map<readonly string[], Uint32Array>();
      for (const s of batch.series) this.applySeries(s, ttl, headCodes);
    }
    if (tables.metrics && batch.columns) this.applyColumns(batch.columns, ttl);
    this.counters.eventsIngested += batch.events.length;
  }

  private applyEvent(e: EngineEvent, ttl: number, tables: TableMask): void {
    switch (e.kind) {
      case 'metric': return tables.metrics ? this.applyMetric(e, ttl) : undefined;
      case 'log': return tables.logs ? this.applyLog(e, ttl) : undefined;
      case 'span_start': return tables.spanEvents ? this.applySpanStart(e, ttl) : undefined;
      case 'span_end': return tables.spanEvents ? this.applySpanEnd(e, ttl) : undefined;
    }
  }

  private applyMetric(e: MetricEvent, ttl: number): void {
    const id = this.series.getOrCreate(metricLabels(e.metric, e.attributes), e.unit);
    this.metrics.append(id, e.ts, e.value, ttl, e.traceId, e.spanId);
    this.series.noteExpiry(id, e.ts + ttl);
    this.counters.samplesIngested++;
  }

  private applySeries(s: SeriesEntry, ttl: number, headCodes: Map<readonly string[], Uint32Array>): void {
    let ids: RunIds | null = null;
    if (s.ids) {
      let codes = headCodes.get(s.ids.dictionary);
      if (codes === undefined) headCodes.set(s.ids.dictionary, (codes = this.metrics.headCodesOf(s.ids.dictionary)));
      ids = { trace: s.ids.trace, span: s.ids.span, headCodes: codes };
    }
    this.applyRun(s, s.timestamps, s.values, 0, s.timestamps.length, ttl, ids);
    this.counters.samplesIngested += s.timestamps.length;
  }

  /** A batch's series as columns: one registry lookup and one head append per series run. */
  private applyColumns(c: SeriesColumns, ttl: number): void {
    const ids: RunIds | null = c.ids ? { trace: c.ids.trace, span: c.ids.span, headCodes: this.metrics.headCodesOf(c.ids.dictionary) } : null;
    for (let k = 0; k < c.series.length; k++) this.applyRun(c.series[k]!, c.timestamps, c.values, c.start[k]!, c.start[k + 1]!, ttl, ids);
    this.counters.samplesIngested += c.timestamps.length;
  }

  /** Rows [from, to) of one series' columns into its head, and its expiry noted. */
  private applyRun(name: SeriesName, ts: Float64Array, values: Float64Array, from: number, to: number, ttl: number, ids: RunIds | null): void {
    const info = this.series.seriesOf(name);
    raiseExpiry(info, this.metrics.appendRange(info.id, ts, values, from, to, ttl, ids) + ttl);
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
    this.durability?.sealed([
      { table: 'metrics', segment: sealed.metrics }, { table: 'span_events', segment: sealed.spanEvents }, { table: 'logs', segment: sealed.logs },
    ]);
    return sealed;
  }

  /** Drops fully expired segments (and their files) and forgets expired series and spans. */
  dropExpired(): DroppedSegments {
    const now = this.clock();
    const dropped = { metrics: this.metrics.dropExpired(now), spanEvents: this.spanEvents.dropExpired(now), logs: this.logs.dropExpired(now) };
    this.series.removeExpired(now);
    this.spans.removeExpired(now);
    this.counters.segmentsDropped += dropped.metrics.length + dropped.spanEvents.length + dropped.logs.length;
    this.durability?.dropped([...dropped.metrics, ...dropped.spanEvents, ...dropped.logs]);
    this.compactExpired(now);
    return dropped;
  }

  /**
   * Rebuilds, in memory, segments most of whose rows have expired while others live on
   * (mixed TTLs), so short-lived rows do not stay in memory for the longest TTL (compact.ts).
   */
  private compactExpired(now: number): void {
    const flushed = (s: MetricSegment | RowSegment) => this.durability?.isFlushed(s) ?? true;
    const segs = this.metrics.segments;
    for (let i = 0; i < segs.length; i++) {
      const old = segs[i]!;
      const compacted = flushed(old) ? compactMetricSegment(old, now) : null;
      if (!compacted) continue;
      segs[i] = compacted;
      this.durability?.compacted(old, compacted);
      inheritParts(old, compacted);
      this.counters.segmentsCompacted++;
    }
    for (const table of [this.spanEvents, this.logs]) {
      const rows = table.segments;
      for (let i = 0; i < rows.length; i++) {
        const old = rows[i]!;
        const compacted = flushed(old) ? compactRowSegment(old, table.columns, now) : null;
        if (!compacted) continue;
        rows[i] = compacted;
        this.durability?.compacted(old, compacted);
        inheritParts(old, compacted);
        this.counters.segmentsCompacted++;
      }
    }
    // What compaction leaves is small: runs of small segments are merged, so their number stays bounded too.
    const onMerged = (run: (MetricSegment | RowSegment)[], merged: MetricSegment | RowSegment) => {
      this.durability?.merged(run, merged);
      this.counters.segmentsMerged += run.length;
    };
    const metrics = mergeSmallRuns(this.metrics.segments, flushed, mergeMetricSegments, onMerged, now);
    if (metrics) this.metrics.segments = metrics;
    for (const table of [this.spanEvents, this.logs]) {
      const merged = mergeSmallRuns(table.segments, flushed, (run) => mergeRowSegments(run, table.columns), onMerged, now);
      if (merged) table.segments = merged;
    }
  }

  /**
   * One full maintenance pass: TTL sweep, seal if a head is due, then flush every sealed
   * segment and delete the WAL files they cover. Resolves when all of that is done;
   * rejects if a flush failed (it is retried by the next pass).
   */
  async maintain(): Promise<void> {
    if (this.closing) return;
    this.dropExpired();
    await this.sealIfDue();
    if (!this.durability) return;
    await this.durability.flushEverything();
    if (this.durability.flushError) throw this.durability.flushError;
  }

  /**
   * The timer's pass: seals when due and leaves the flush running in the background, so the
   * next seal never waits for it; the flush starts once ingest is quiet (flush-pacer.ts).
   */
  private tick(sweep: boolean): void {
    if (this.closing) return;
    if (sweep) this.dropExpired();
    void this.sealIfDue()
      .then(() => (this.durability && this.flushPacer?.mayFlush(this.durability.checkpointDue) ? this.durability.checkpoint() : undefined))
      .catch((err) => this.warn(`maintenance failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async sealIfDue(): Promise<void> {
    if (!this.needsSeal()) return;
    if (this.durability) await this.durability.sealAtWalBoundary(() => this.sealAll());
    else this.sealAll();
  }

  /**
   * Graceful shutdown: stops the timer, seals and flushes every head, closes the WAL.
   * If the flush fails the WAL keeps the rows and the next open replays them.
   */
  close(): Promise<void> {
    if (!this.closing) {
      if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
      this.maintenanceTimer = null;
      this.closing = this.durability ? this.durability.close(() => this.sealAll()) : Promise.resolve();
    }
    return this.closing;
  }

  get isDurable(): boolean {
    return this.durability !== null;
  }

  durabilityStats(): DurabilityStats | null {
    return this.durability?.stats() ?? null;
  }

  private warn(msg: string): void {
    (this.durability?.log ?? ((m: string) => console.warn(m)))(msg);
  }
}

/** A metric event's series: its name plus its attributes as labels (metricEventLabels). */
export function metricLabels(metric: string, attributes: Attributes | undefined): Labels {
  const labels: Labels = metricEventLabels(attributes);
  labels.__name__ = metric;
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
