/**
 * Writes segment snapshots to Parquet files off the request path. `worker` (default)
 * encodes on a worker thread: the main thread only pays for copying the snapshot's
 * arrays into the message. `inline` encodes on the calling thread in small row groups
 * with an event-loop turn between them (bench/durability.bench.ts compares the two).
 */
import { writeFileAtomic } from './atomic-file.ts';
import type { FlushJob, FlushReply } from './parquet-worker.ts';
import { encodeSegmentParquetChunked } from './parquet-write.ts';
import { tempPathFor } from './segment-files.ts';
import { WorkerJobs } from './worker-jobs.ts';
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
  // A dead worker fails its jobs (they are retried by the next flush) and is replaced on the next write.
  private readonly jobs = new WorkerJobs<FlushReply>(WORKER_URL, 'Parquet worker');

  constructor() {
    // Loading the worker's modules takes a moment: do it now rather than on the first flush.
    this.jobs.start();
  }

  async write(snapshot: SegmentSnapshot, path: string): Promise<number> {
    const job: FlushJob = { id: this.jobs.id(), snapshot, path, tempPath: tempPathFor(path) };
    const reply = await this.jobs.run(job);
    if (!reply.ok) throw new Error(reply.message);
    return reply.bytes;
  }

  async close(): Promise<void> {
    await this.jobs.close('segment writer closed');
  }
}
