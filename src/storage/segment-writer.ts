/**
 * Writes segment snapshots to Parquet files off the request path. `worker` (default)
 * encodes on a worker thread: the main thread only pays for copying the snapshot's
 * arrays into the message. `inline` encodes on the calling thread in small row groups
 * with an event-loop turn between them (bench/durability.bench.ts compares the two).
 */
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from './atomic-file.ts';
import type { FlushJob, FlushReply } from './parquet-worker.ts';
import { encodeSegmentParquetChunked } from './parquet-write.ts';
import { tempPathFor } from './segment-files.ts';
import type { SegmentSnapshot } from './segment-snapshot.ts';

export type FlushMode = 'worker' | 'inline';

export interface SegmentWriter {
  /** Resolves with the file's size once it is durable under `path`. */
  write(snapshot: SegmentSnapshot, path: string): Promise<number>;
  close(): Promise<void>;
}

export function createSegmentWriter(mode: FlushMode): SegmentWriter {
  return mode === 'worker' ? new WorkerSegmentWriter() : new InlineSegmentWriter();
}

/** Rows per row group in inline mode: each group is one uninterrupted stretch of encoding (~10 ms). */
const INLINE_ROW_GROUP_ROWS = 8192;

class InlineSegmentWriter implements SegmentWriter {
  async write(snapshot: SegmentSnapshot, path: string): Promise<number> {
    const bytes = await encodeSegmentParquetChunked(snapshot, INLINE_ROW_GROUP_ROWS);
    await writeFileAtomic(path, tempPathFor(path), bytes);
    return bytes.length;
  }

  async close(): Promise<void> {}
}

const WORKER_URL = new URL('./parquet-worker.mjs', import.meta.url);

class WorkerSegmentWriter implements SegmentWriter {
  private worker: Worker | null = null;
  private nextJobId = 1;
  private readonly pending = new Map<number, { resolve: (bytes: number) => void; reject: (err: Error) => void }>();

  constructor() {
    // Loading the worker's modules takes a moment: do it now rather than on the first flush.
    this.start();
  }

  write(snapshot: SegmentSnapshot, path: string): Promise<number> {
    const worker = this.worker ?? this.start();
    const job: FlushJob = { id: this.nextJobId++, snapshot, path, tempPath: tempPathFor(path) };
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      // Keep the process alive only while a file is being written.
      worker.ref();
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
    this.failAll(new Error('segment writer closed'));
  }

  private start(): Worker {
    const worker = new Worker(WORKER_URL);
    worker.on('message', (reply: FlushReply) => this.settle(reply));
    worker.on('error', (err) => this.crashed(worker, err));
    worker.on('exit', (code) => this.crashed(worker, new Error(`Parquet worker exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: FlushReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.bytes);
    else waiter.reject(new Error(reply.message));
    if (this.pending.size === 0) this.worker?.unref();
  }

  /** A dead worker fails its jobs (they are retried by the next flush) and is replaced on the next write. */
  private crashed(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.failAll(err);
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
