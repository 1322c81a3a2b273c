/**
 * The Parquet worker thread: encodes segment snapshots and writes them crash-safely, so
 * the CPU-heavy encoding never runs on the thread that serves requests. Started through
 * parquet-worker.mjs (which makes this TypeScript file loadable in a plain worker).
 */
import { parentPort } from 'node:worker_threads';
import { writeFileAtomic } from './atomic-file.ts';
import { encodeSegmentParquet } from './parquet-write.ts';
import type { SegmentSnapshot } from './segment-snapshot.ts';
import { lowerThreadPriority, nameThread } from './thread-priority.ts';

/** The flush's nice value: well below request serving, not starved (a tenth of a busy core's share). */
export const FLUSH_NICE = 10;

export interface FlushJob {
  id: number;
  snapshot: SegmentSnapshot;
  path: string;
  tempPath: string;
}

export type FlushReply = { id: number; ok: true; bytes: number } | { id: number; ok: false; message: string };

async function run(job: FlushJob): Promise<FlushReply> {
  try {
    const bytes = encodeSegmentParquet(job.snapshot);
    await writeFileAtomic(job.path, job.tempPath, bytes);
    return { id: job.id, ok: true, bytes: bytes.length };
  } catch (err) {
    return { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

const port = parentPort;
if (port) {
  nameThread('strata-parquet');
  lowerThreadPriority(FLUSH_NICE);
  port.on('message', (job: FlushJob) => void run(job).then((reply) => port.postMessage(reply)));
}
