/**
 * What makes a store durable: the WAL in front of every apply, segment files behind every
 * seal, and the checkpoints that connect them.
 *
 * - ingest: each batch gets a log sequence number (LSN), is appended to the WAL (durable
 *   under the fsync policy), then applied — in LSN order (lsn-sequencer.ts).
 * - seal: heads are sealed right after a WAL rotation, so the closed WAL files hold only
 *   rows of that seal and earlier ones; each sealed segment is queued for Parquet with the
 *   LSN its seal covered.
 * - checkpoint: flush the queued segments (in seal order), then delete those WAL files.
 * - recovery: load the segment files, then replay the WAL, skipping for each table the
 *   batches its files already hold (LSN <= the table's highest file LSN).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { IngestBatch } from './events.ts';
import { LsnSequencer } from './lsn-sequencer.ts';
import { resolveNodeId } from './node-id.ts';
import { SegmentPersistence, type FlushStats, type LoadReport, type LoadTarget, type Segment } from './persistence.ts';
import type { SegmentTable } from './segment-snapshot.ts';
import type { FlushMode } from './segment-writer.ts';
import { Wal, type FsyncPolicy, type ReplayStats, type WalStats } from './wal.ts';
import { decodeWalEntry, encodeWalEntry } from './wal-entry.ts';

export interface DurabilityOptions {
  dataDir: string;
  fsync?: FsyncPolicy;
  walBatchIntervalMs?: number;
  walMaxFileBytes?: number;
  nodeId?: string;
  flushMode?: FlushMode;
  log: (msg: string) => void;
}

/** Which tables a replayed batch still has to fill (the others already hold it from segment files). */
export interface TableMask {
  metrics: boolean;
  spanEvents: boolean;
  logs: boolean;
}

/** How recovery fills the store. */
export interface ReplayTarget extends LoadTarget {
  /** Called once the segment files are in: rebuild what they imply (the span index). */
  afterLoad(): void;
  applyTo(batch: IngestBatch, tables: TableMask): void;
  /** Called after each replayed batch, so a long log cannot grow the heads without bound. */
  afterReplayedBatch(): void;
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

export class Durability {
  private readonly sequencer = new LsnSequencer();
  /** WAL files up to this seq hold only rows of sealed segments. */
  private walSeqSealed = 0;
  private walSeqDeleted = 0;
  private sealing: Promise<void> | null = null;
  private checkpointing: Promise<void> | null = null;
  /** The last flush failure, until a flush succeeds. */
  flushError: Error | null = null;
  private replayed: ReplayStats & { batches: number } = { records: 0, files: 0, bytes: 0, corruptTails: 0, batches: 0 };

  private constructor(
    private readonly wal: Wal,
    private readonly persistence: SegmentPersistence,
    private readonly loaded: LoadReport,
    readonly log: (msg: string) => void,
  ) {}

  /** Loads the segment files into `target`, replays the WAL over them, and opens the WAL for appends. */
  static async open(opts: DurabilityOptions, target: ReplayTarget, now: number): Promise<Durability> {
    await mkdir(opts.dataDir, { recursive: true });
    const nodeId = await resolveNodeId(opts.dataDir, opts.nodeId, opts.log);
    const persistence = new SegmentPersistence({ dataDir: opts.dataDir, nodeId, flushMode: opts.flushMode ?? 'worker', log: opts.log }, target);
    let wal: Wal | null = null;
    try {
      const loaded = await persistence.load(now);
      target.afterLoad();
      wal = await Wal.open({
        dir: path.join(opts.dataDir, 'wal'), fsync: opts.fsync ?? 'always', log: opts.log,
        batchIntervalMs: opts.walBatchIntervalMs, maxFileBytes: opts.walMaxFileBytes,
      });
      const durability = new Durability(wal, persistence, loaded, opts.log);
      await durability.replay(target);
      return durability;
    } catch (err) {
      await wal?.close().catch(() => undefined);
      await persistence.close();
      throw err;
    }
  }

  private async replay(target: ReplayTarget): Promise<void> {
    const floor = this.loaded.walLsnFloor;
    let lastLsn = Math.max(floor.metrics, floor.span_events, floor.logs);
    this.sequencer.resetTo(lastLsn);
    const stats = await this.wal.replay((payload) => {
      let entry;
      try {
        entry = decodeWalEntry(payload);
      } catch (err) {
        this.log(`wal: skipping an undecodable record: ${messageOf(err)}`);
        return;
      }
      const { lsn, batch } = entry;
      if (lsn > lastLsn) lastLsn = lsn;
      // Seals during replay cover everything up to here.
      this.sequencer.resetTo(lastLsn);
      const mask = { metrics: lsn > floor.metrics, spanEvents: lsn > floor.span_events, logs: lsn > floor.logs };
      if (!mask.metrics && !mask.spanEvents && !mask.logs) return;
      try {
        target.applyTo(batch, mask);
      } catch (err) {
        this.log(`wal: batch ${lsn} could not be applied, skipped: ${messageOf(err)}`);
        return;
      }
      this.replayed.batches++;
      target.afterReplayedBatch();
    });
    Object.assign(this.replayed, stats);
  }

  /** WAL append (durable under the policy), then `apply` in LSN order; a failed append applies nothing. */
  async ingest(batch: IngestBatch, apply: () => void): Promise<void> {
    const lsn = this.sequencer.issue();
    try {
      await this.wal.append(encodeWalEntry(lsn, batch));
      if (!this.sequencer.isTurn(lsn)) await this.sequencer.turn(lsn);
      apply();
    } finally {
      this.sequencer.done(lsn);
    }
  }

  /** Queues freshly sealed segments for Parquet. Applies run in LSN order, so they hold exactly the batches up to appliedThrough. */
  sealed(segments: { table: SegmentTable; segment: Segment | null }[]): void {
    const lsn = this.sequencer.appliedThrough;
    for (const { table, segment } of segments) if (segment) this.persistence.enqueue(table, segment, lsn);
  }

  /** Dropped (expired) segments: their files are deleted in the background. */
  dropped(segments: Segment[]): void {
    this.persistence.forget(segments);
  }

  /** Whether a segment is in a Parquet file already (only those are compacted: a queued one is being written). */
  isFlushed(segment: Segment): boolean {
    return this.persistence.fileOf(segment) !== undefined;
  }

  /** A flushed segment rebuilt in memory from its live rows keeps its file. */
  compacted(segment: Segment, replacement: Segment): void {
    this.persistence.replace(segment, replacement);
  }

  /** Flushed segments merged in memory: the merged one owns all their files. */
  merged(parts: Segment[], merged: Segment): void {
    this.persistence.merge(parts, merged);
  }

  /**
   * Runs `sealAll` at a WAL file boundary: rotate first, so every batch appended before
   * is in a file up to `seq`; wait until those batches are applied; then seal. Concurrent
   * calls share one seal.
   */
  sealAtWalBoundary(sealAll: () => void): Promise<void> {
    if (!this.sealing) {
      this.sealing = (async () => {
        const lastIssued = this.sequencer.lastIssuedLsn;
        const seq = await this.wal.rotate();
        await this.sequencer.whenThrough(lastIssued);
        sealAll();
        this.walSeqSealed = Math.max(this.walSeqSealed, seq);
      })().finally(() => { this.sealing = null; });
    }
    return this.sealing;
  }

  /**
   * Flushes every queued segment, then deletes the WAL files up to the last seal. Never
   * rejects: a failure is logged and kept in `flushError`, and the segments stay queued
   * for the next checkpoint. Concurrent calls share one run.
   */
  checkpoint(): Promise<void> {
    if (!this.checkpointing) {
      this.checkpointing = (async () => {
        try {
          while (this.persistence.pendingFlushes > 0) await this.persistence.flush();
          this.flushError = null;
          // Read in the same turn as the empty queue: every seal recorded so far is flushed.
          const sealed = this.walSeqSealed;
          if (sealed > this.walSeqDeleted) {
            await this.wal.deleteUpTo(sealed);
            this.walSeqDeleted = Math.max(this.walSeqDeleted, sealed);
          }
        } catch (err) {
          this.flushError = err instanceof Error ? err : new Error(String(err));
          this.log(`store: flush failed, will retry; the WAL keeps the data: ${this.flushError.message}`);
        }
      })().finally(() => { this.checkpointing = null; });
    }
    return this.checkpointing;
  }

  /** Whether a checkpoint has work: sealed segments not yet in files, or WAL files they cover. */
  get checkpointDue(): boolean {
    return this.persistence.pendingFlushes > 0 || this.walSeqSealed > this.walSeqDeleted;
  }

  /** Checkpoints until nothing sealed is left unflushed (a running checkpoint may have missed the latest seal) or a flush fails. */
  async flushEverything(): Promise<void> {
    do await this.checkpoint();
    while (!this.flushError && this.checkpointDue);
    await this.persistence.settle();
  }

  /** Seals and flushes everything, then closes the WAL. If that fails, the WAL keeps the rows for the next open. */
  async close(sealAll: () => void): Promise<void> {
    try {
      await this.sealing?.catch(() => undefined);
      await this.sealAtWalBoundary(sealAll);
      await this.flushEverything();
    } catch (err) {
      this.log(`store: final seal failed, the WAL keeps the data: ${messageOf(err)}`);
    } finally {
      await this.wal.close();
      await this.persistence.close();
    }
  }

  stats(): DurabilityStats {
    return {
      wal: this.wal.stats(), flush: { ...this.persistence.flushStats }, pendingFlushes: this.persistence.pendingFlushes,
      segmentFiles: this.persistence.fileCount, appliedLsn: this.sequencer.appliedThrough, loaded: this.loaded, replayed: this.replayed,
    };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
