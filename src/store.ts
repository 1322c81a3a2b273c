/**
 * The facade over the engine: owns the tables, the series registry and postings, the
 * span index and the lifecycle (seal, TTL sweep, durability). Ingest hands it validated
 * batches; queries read through it. It knows nothing of HTTP, Llama Stack or PromQL.
 *
 * `new Store()` is in-memory only. `Store.open({dataDir})` is durable: `ingest` appends
 * each batch to the WAL before applying it, and `maintain` (on a timer) seals heads,
 * flushes segments to Parquet and deletes the WAL files they cover (a checkpoint).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
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
import { LsnSequencer } from './storage/lsn-sequencer.ts';
import { resolveNodeId } from './storage/node-id.ts';
import { SegmentPersistence, type FlushStats, type LoadReport } from './storage/persistence.ts';
import type { FlushMode } from './storage/segment-writer.ts';
import { refeedSpanEvents } from './storage/span-rebuild.ts';
import { Wal, type FsyncPolicy, type ReplayStats, type WalStats } from './storage/wal.ts';
import { decodeWalEntry, encodeWalEntry } from './storage/wal-entry.ts';

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
  /** Period of the maintenance timer (seal, flush, checkpoint, TTL sweep), ms; 0 = no timer. Default 1000. */
  maintenanceIntervalMs?: number;
  /** Where Parquet encoding runs: a worker thread (default) or chunked on this thread. */
  flushMode?: FlushMode;
  /** Warnings: torn WAL tails, skipped segment files, failed flushes. Default console.warn. */
  log?: (msg: string) => void;
}

export interface DurabilityStats {
  wal: WalStats;
  flush: FlushStats;
  /** Sealed segments not yet in a Parquet file. */
  pendingFlushes: number;
  segmentFiles: number;
  /** Highest log sequence number applied. */
  appliedLsn: number;
  /** What the last open loaded and replayed. */
  loaded: LoadReport;
  replayed: ReplayStats & { batches: number };
}

/** Which tables a replayed batch still has to fill (the others already hold it from segment files). */
interface TableMask {
  metrics: boolean;
  spanEvents: boolean;
  logs: boolean;
}

const ALL_TABLES: TableMask = { metrics: true, spanEvents: true, logs: true };
const DEFAULT_MAINTENANCE_INTERVAL_MS = 1000;

interface Durable {
  wal: Wal;
  persistence: SegmentPersistence;
  sequencer: LsnSequencer;
  log: (msg: string) => void;
  /** WAL files up to this seq hold only rows of sealed segments (set by each checkpoint). */
  walSeqSealed: number;
  walSeqDeleted: number;
  loaded: LoadReport;
  replayed: ReplayStats & { batches: number };
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

  private durable: Durable | null = null;
  private maintenanceTimer: NodeJS.Timeout | null = null;
  private sealing: Promise<void> | null = null;
  private checkpointing: Promise<void> | null = null;
  private flushError: Error | null = null;
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
    if (opts.dataDir !== undefined) await store.recover(opts.dataDir, opts);
    const interval = opts.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_INTERVAL_MS;
    if (interval > 0) {
      store.maintenanceTimer = setInterval(() => store.tick(), interval);
      store.maintenanceTimer.unref();
    }
    return store;
  }

  private async recover(dataDir: string, opts: StoreOpenOptions): Promise<void> {
    const log = opts.log ?? ((msg: string) => console.warn(msg));
    await mkdir(dataDir, { recursive: true });
    const nodeId = await resolveNodeId(dataDir, opts.nodeId);
    const persistence = new SegmentPersistence({ dataDir, nodeId, flushMode: opts.flushMode ?? 'worker', log }, this);
    const loaded = await persistence.load(this.clock());
    refeedSpanEvents(this.spanEvents.segments, this.spans);
    // As the running store's sweeps did: an expired span must not shadow a later start with its id.
    this.spans.removeExpired(this.clock());
    const sequencer = new LsnSequencer();
    const wal = await Wal.open({
      dir: path.join(dataDir, 'wal'), fsync: opts.fsync ?? 'always', log,
      batchIntervalMs: opts.walBatchIntervalMs, maxFileBytes: opts.walMaxFileBytes,
    });
    this.durable = { wal, persistence, sequencer, log, walSeqSealed: 0, walSeqDeleted: 0, loaded, replayed: { records: 0, files: 0, bytes: 0, corruptTails: 0, batches: 0 } };
    const floor = loaded.walLsnFloor;
    let lastLsn = Math.max(floor.metrics, floor.span_events, floor.logs);
    sequencer.resetTo(lastLsn);
    const replayed = await wal.replay((payload) => {
      let entry;
      try {
        entry = decodeWalEntry(payload);
      } catch (err) {
        log(`wal: skipping an undecodable record: ${messageOf(err)}`);
        return;
      }
      const { lsn, batch } = entry;
      if (lsn > lastLsn) lastLsn = lsn;
      sequencer.resetTo(lastLsn);
      const mask = { metrics: lsn > floor.metrics, spanEvents: lsn > floor.span_events, logs: lsn > floor.logs };
      if (!mask.metrics && !mask.spanEvents && !mask.logs) return;
      this.applyTo(batch, mask);
      this.durable!.replayed.batches++;
      // Keep heads bounded however long the log is; these seals are flushed by the next checkpoint.
      if (this.headRows() >= this.limits.maxHeadRows) this.sealAll();
    });
    Object.assign(this.durable.replayed, replayed);
    this.dropExpired();
  }

  /**
   * Makes a validated batch durable (WAL, per the fsync policy) and then applies it; a
   * batch whose WAL append fails is not applied. In-memory stores just apply it.
   */
  async ingest(batch: IngestBatch): Promise<void> {
    if (this.closing) throw new Error('store is closed');
    const d = this.durable;
    if (!d) {
      this.apply(batch);
      return;
    }
    const lsn = d.sequencer.issue();
    try {
      await d.wal.append(encodeWalEntry(lsn, batch));
      if (!d.sequencer.isTurn(lsn)) await d.sequencer.turn(lsn);
      this.apply(batch);
    } finally {
      d.sequencer.done(lsn);
    }
  }

  /** Applies a validated batch to the heads and indexes (after it is durable). */
  apply(batch: IngestBatch): void {
    this.applyTo(batch, ALL_TABLES);
  }

  private applyTo(batch: IngestBatch, tables: TableMask): void {
    const ttl = batch.ttlSeconds * 1_000_000;
    for (const e of batch.events) this.applyEvent(e, ttl, tables);
    if (tables.metrics) for (const s of batch.series) this.applySeries(s, ttl);
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
    const d = this.durable;
    if (d) {
      // Applies happen in LSN order, so the heads just sealed held exactly the batches up to appliedThrough.
      const lsn = d.sequencer.appliedThrough;
      if (sealed.metrics) d.persistence.enqueue('metrics', sealed.metrics, lsn);
      if (sealed.spanEvents) d.persistence.enqueue('span_events', sealed.spanEvents, lsn);
      if (sealed.logs) d.persistence.enqueue('logs', sealed.logs, lsn);
    }
    return sealed;
  }

  /** Drops fully expired segments (and their files) and forgets expired series and spans. */
  dropExpired(): DroppedSegments {
    const now = this.clock();
    const dropped = { metrics: this.metrics.dropExpired(now), spanEvents: this.spanEvents.dropExpired(now), logs: this.logs.dropExpired(now) };
    this.series.removeExpired(now);
    this.spans.removeExpired(now);
    this.counters.segmentsDropped += dropped.metrics.length + dropped.spanEvents.length + dropped.logs.length;
    this.durable?.persistence.forget([...dropped.metrics, ...dropped.spanEvents, ...dropped.logs]);
    return dropped;
  }

  /**
   * One full maintenance pass: TTL sweep, seal if a head is due, then flush every sealed
   * segment and delete the WAL files they cover. Resolves when all of that is done;
   * rejects if a flush failed (it is retried by the next pass).
   */
  async maintain(): Promise<void> {
    if (this.closing) return;
    await this.sweepAndSeal();
    const d = this.durable;
    if (!d) return;
    await this.checkpoint(d);
    await d.persistence.settle();
    if (d.persistence.pendingFlushes > 0 && this.flushError) throw this.flushError;
  }

  /** The timer's pass: sweeps and seals, and leaves the flush running in the background so the next seal never waits for it. */
  private tick(): void {
    if (this.closing) return;
    void this.sweepAndSeal()
      .then(() => { if (this.durable) void this.checkpoint(this.durable); })
      .catch((err) => this.warn(`maintenance failed: ${messageOf(err)}`));
  }

  private async sweepAndSeal(): Promise<void> {
    this.dropExpired();
    if (!this.needsSeal()) return;
    if (!this.durable) {
      this.sealAll();
      return;
    }
    await this.sealAtWalBoundary(this.durable);
  }

  /**
   * Seals every head at a WAL file boundary. The rotation comes first: every batch
   * appended before it is in a file up to `seq`, and is applied (awaited) before the
   * seal, so those files hold only rows of this seal and earlier ones.
   */
  private sealAtWalBoundary(d: Durable): Promise<void> {
    if (!this.sealing) {
      this.sealing = (async () => {
        const lastIssued = d.sequencer.lastIssuedLsn;
        const seq = await d.wal.rotate();
        await d.sequencer.whenThrough(lastIssued);
        this.sealAll();
        d.walSeqSealed = Math.max(d.walSeqSealed, seq);
      })().finally(() => { this.sealing = null; });
    }
    return this.sealing;
  }

  /**
   * Flushes every sealed segment, then deletes the WAL files up to the last seal. Never
   * rejects: a failure is logged and kept in `flushError`, and the segments stay queued.
   */
  private checkpoint(d: Durable): Promise<void> {
    if (!this.checkpointing) {
      this.checkpointing = (async () => {
        try {
          while (d.persistence.pendingFlushes > 0) await d.persistence.flush();
          this.flushError = null;
          // Read in the same turn as the empty queue: every seal recorded so far is flushed.
          const sealed = d.walSeqSealed;
          if (sealed > d.walSeqDeleted) {
            await d.wal.deleteUpTo(sealed);
            d.walSeqDeleted = Math.max(d.walSeqDeleted, sealed);
          }
        } catch (err) {
          this.flushError = err instanceof Error ? err : new Error(String(err));
          d.log(`store: flush failed, will retry; the WAL keeps the data: ${this.flushError.message}`);
        }
      })().finally(() => { this.checkpointing = null; });
    }
    return this.checkpointing;
  }

  /**
   * Graceful shutdown: stops the timer, seals and flushes every head, closes the WAL.
   * If the flush fails the WAL keeps the rows and the next open replays them.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    this.maintenanceTimer = null;
    const d = this.durable;
    if (!d) return;
    try {
      await this.sealing?.catch(() => undefined);
      await this.sealAtWalBoundary(d);
      await this.checkpoint(d);
      await d.persistence.settle();
    } catch (err) {
      d.log(`store: final seal failed, the WAL keeps the data: ${messageOf(err)}`);
    } finally {
      await d.wal.close();
      await d.persistence.close();
    }
  }

  get isDurable(): boolean {
    return this.durable !== null;
  }

  durabilityStats(): DurabilityStats | null {
    const d = this.durable;
    if (!d) return null;
    return {
      wal: d.wal.stats(), flush: { ...d.persistence.flushStats }, pendingFlushes: d.persistence.pendingFlushes,
      segmentFiles: d.persistence.fileCount, appliedLsn: d.sequencer.appliedThrough, loaded: d.loaded, replayed: d.replayed,
    };
  }

  private headRows(): number {
    return this.metrics.head.rows + this.spanEvents.headRows + this.logs.headRows;
  }

  private warn(msg: string): void {
    (this.durable?.log ?? ((m: string) => console.warn(m)))(msg);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
