/**
 * The segment directory's keeper: loads this node's segment files on start (deleting
 * expired ones and leftover temp files, skipping unreadable ones), flushes sealed
 * segments to Parquet in seal order, and deletes the files of dropped segments.
 *
 * Flushes run strictly one after another, in seal order, stopping at the first failure:
 * the files on disk are then always a prefix of the seals, which is what lets replay
 * trust a file's WAL position (see lsn-sequencer.ts) for every earlier seal too.
 */
import { readFile, unlink } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type { SeriesRegistry } from '../index/series.ts';
import { deleteFileDurably } from './atomic-file.ts';
import type { MetricSegment } from './metric-segment.ts';
import type { MetricTable } from './metric-table.ts';
import { keyValuesToMeta, type StoredSegmentMeta } from './parquet-meta.ts';
import { decodeMetricParquet, decodeRowParquet, openSegmentParquet } from './parquet-read.ts';
import type { RowSegment } from './row-segment.ts';
import type { RowTable } from './row-table.ts';
import { listSegmentFiles, segmentFilePath, type ListedSegmentFile } from './segment-files.ts';
import { metricSnapshot, rowSnapshot, type SegmentSnapshot, type SegmentTable } from './segment-snapshot.ts';
import { createSegmentWriter, type FlushMode, type SegmentWriter } from './segment-writer.ts';

export type Segment = MetricSegment | RowSegment;

/** What loading fills: the store's registry and tables. */
export interface LoadTarget {
  series: SeriesRegistry;
  metrics: MetricTable;
  spanEvents: RowTable;
  logs: RowTable;
}

export interface PersistenceOptions {
  dataDir: string;
  nodeId: string;
  flushMode: FlushMode;
  log: (msg: string) => void;
}

export interface LoadReport {
  /** Per table, the highest WAL position any of its files covered (expired ones included). */
  walLsnFloor: Record<SegmentTable, number>;
  segments: number;
  rows: number;
  expiredDeleted: number;
  tempsDeleted: number;
  skipped: number;
}

export interface FlushStats {
  files: number;
  rows: number;
  bytes: number;
  /** Wall time spent flushing (snapshot to durable file), summed. */
  millis: number;
}

interface PendingFlush {
  table: SegmentTable;
  segment: Segment;
  walLsn: number;
  dropped: boolean;
}

export class SegmentPersistence {
  private readonly writer: SegmentWriter;
  private readonly files = new Map<Segment, string>();
  /** Files of segments merged in memory into this one (compact.ts), besides its own in `files`. */
  private readonly mergedFiles = new Map<Segment, string[]>();
  private readonly queue: PendingFlush[] = [];
  private flushing: Promise<void> | null = null;
  private readonly deletions = new Set<Promise<void>>();
  readonly flushStats: FlushStats = { files: 0, rows: 0, bytes: 0, millis: 0 };

  constructor(private readonly opts: PersistenceOptions, private readonly target: LoadTarget) {
    this.writer = createSegmentWriter(opts.flushMode);
  }

  /** Loads every live segment file of this node into the target's tables. */
  async load(now: number): Promise<LoadReport> {
    const report: LoadReport = {
      walLsnFloor: { metrics: 0, span_events: 0, logs: 0 }, segments: 0, rows: 0, expiredDeleted: 0, tempsDeleted: 0, skipped: 0,
    };
    const listing = await listSegmentFiles(this.opts.dataDir, this.opts.nodeId);
    for (const temp of listing.temps) {
      await unlink(temp).catch(() => undefined);
      report.tempsDeleted++;
    }
    if (report.tempsDeleted) this.opts.log(`segments: deleted ${report.tempsDeleted} unfinished temp file(s) left by a crash`);
    // Seal order, so tables list their segments as they did before the restart.
    const files = listing.segments.sort((a, b) => a.segmentId - b.segmentId);
    for (const file of files) {
      try {
        const meta = await readFooterMeta(file);
        report.walLsnFloor[meta.table] = Math.max(report.walLsnFloor[meta.table], meta.walLsn);
        if (meta.maxExpiry <= now) {
          await deleteFileDurably(file.path);
          report.expiredDeleted++;
          continue;
        }
        report.rows += await this.adopt(file);
        report.segments++;
      } catch (err) {
        report.skipped++;
        this.opts.log(`segments: skipping ${file.path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return report;
  }

  private async adopt(file: ListedSegmentFile): Promise<number> {
    const contents = await readFile(file.path);
    const parquet = openSegmentParquet(contents.buffer.slice(contents.byteOffset, contents.byteOffset + contents.byteLength) as ArrayBuffer);
    const { series, metrics, spanEvents, logs } = this.target;
    let segment: Segment;
    if (file.table === 'metrics') {
      const seg = await decodeMetricParquet(parquet, (metric, labels, unit) => series.getOrCreate({ ...JSON.parse(labels), __name__: metric }, unit));
      noteSeriesExpiry(seg, series);
      metrics.adopt(seg);
      segment = seg;
    } else {
      const table = file.table === 'span_events' ? spanEvents : logs;
      segment = await decodeRowParquet(parquet, table.columns);
      table.adopt(segment);
    }
    this.files.set(segment, file.path);
    return segment.rows;
  }

  /** Queues a sealed segment; `walLsn` is the WAL position its seal covered. */
  enqueue(table: SegmentTable, segment: Segment, walLsn: number): void {
    this.queue.push({ table, segment, walLsn, dropped: false });
  }

  get pendingFlushes(): number {
    return this.queue.length;
  }

  /** Writes every queued segment, in order; rejects at the first failure, keeping it and the rest queued. */
  flush(): Promise<void> {
    if (!this.flushing) this.flushing = this.drain().finally(() => { this.flushing = null; });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const job = this.queue[0];
      if (job.dropped) {
        this.queue.shift();
        continue;
      }
      const started = performance.now();
      const path = this.pathOf(job);
      const bytes = await this.writer.write(this.snapshotOf(job), path);
      this.queue.shift();
      if (job.dropped) {
        await deleteFileDurably(path);
        continue;
      }
      this.files.set(job.segment, path);
      this.flushStats.files++;
      this.flushStats.rows += job.segment.rows;
      this.flushStats.bytes += bytes;
      this.flushStats.millis += performance.now() - started;
    }
  }

  private pathOf(job: PendingFlush): string {
    const { segment } = job;
    return segmentFilePath(this.opts.dataDir, job.table, {
      minTs: segment.minTs, maxTs: segment.maxTs, nodeId: this.opts.nodeId, segmentId: segment.id,
    });
  }

  private snapshotOf(job: PendingFlush): SegmentSnapshot {
    const { nodeId } = this.opts;
    if (job.table === 'metrics') return metricSnapshot(job.segment as MetricSegment, this.target.series, nodeId, job.walLsn);
    const table = job.table === 'span_events' ? this.target.spanEvents : this.target.logs;
    return rowSnapshot(job.segment as RowSegment, table.columns, nodeId, job.walLsn);
  }

  /** Dropped segments (TTL): unqueue them and delete their files in the background (see settle). */
  forget(segments: Segment[]): void {
    if (segments.length === 0) return;
    const doomed = new Set(segments);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (!doomed.has(this.queue[i].segment)) continue;
      // The head of the queue may be in the writer right now: mark it, drain deletes its file.
      if (i === 0 && this.flushing) this.queue[0].dropped = true;
      else this.queue.splice(i, 1);
    }
    for (const segment of segments) {
      const path = this.files.get(segment);
      if (path === undefined) continue;
      this.files.delete(segment);
      const paths = [path, ...(this.mergedFiles.get(segment) ?? [])];
      this.mergedFiles.delete(segment);
      for (const doomedPath of paths) {
        const deletion = deleteFileDurably(doomedPath)
          .catch((err) => this.opts.log(`segments: could not delete ${doomedPath}: ${err instanceof Error ? err.message : String(err)}`))
          .finally(() => this.deletions.delete(deletion));
        this.deletions.add(deletion);
      }
    }
  }

  /** Waits for the file deletions started by `forget`. */
  async settle(): Promise<void> {
    while (this.deletions.size > 0) await Promise.all([...this.deletions]);
  }

  fileOf(segment: Segment): string | undefined {
    return this.files.get(segment);
  }

  /** A flushed segment rebuilt in memory (compact.ts): its file now belongs to the replacement. */
  replace(segment: Segment, replacement: Segment): void {
    this.merge([segment], replacement);
  }

  /** Flushed segments merged in memory into one (compact.ts): it owns all their files, deleted when it is dropped. */
  merge(parts: Segment[], merged: Segment): void {
    const paths: string[] = [];
    for (const part of parts) {
      const path = this.files.get(part);
      if (path === undefined) continue;
      paths.push(path, ...(this.mergedFiles.get(part) ?? []));
      this.files.delete(part);
      this.mergedFiles.delete(part);
    }
    if (paths.length === 0) return;
    this.files.set(merged, paths[0]!);
    if (paths.length > 1) this.mergedFiles.set(merged, paths.slice(1));
  }

  get fileCount(): number {
    let n = this.files.size;
    for (const extra of this.mergedFiles.values()) n += extra.length;
    return n;
  }

  async close(): Promise<void> {
    await this.settle();
    await this.writer.close();
  }
}

async function readFooterMeta(file: ListedSegmentFile): Promise<StoredSegmentMeta> {
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file.path));
  const meta = keyValuesToMeta(metadata.key_value_metadata);
  if (meta.table !== file.table) throw new Error(`file of table ${meta.table} in the ${file.table} directory`);
  if (meta.nodeId !== file.nodeId || meta.segmentId !== file.segmentId) throw new Error('file name and metadata disagree');
  return meta;
}

/** Each loaded series lives at least until its latest sample in the segment expires. */
function noteSeriesExpiry(seg: MetricSegment, series: SeriesRegistry): void {
  for (let i = 0; i < seg.seriesIds.length; i++) {
    const s = seg.seriesStart[i], e = seg.seriesStart[i + 1];
    let maxExpiry = -Infinity;
    if (seg.expiry) {
      for (let r = s; r < e; r++) if (seg.expiry[r] > maxExpiry) maxExpiry = seg.expiry[r];
    } else if (e > s) {
      maxExpiry = seg.ts[e - 1] + seg.ttlMicros;
    }
    series.noteExpiry(seg.seriesIds[i], maxExpiry);
  }
}
