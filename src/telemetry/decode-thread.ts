/**
 * An ingest decode thread (decode-pool.ts): body bytes in, the batch's WAL entry (less its
 * LSN) out.
 * Decoding and validating a body and encoding its batch are most of an ingest's CPU; done
 * here, they run beside the main thread, which only decodes the compact encoding (cheap:
 * label sets are recognised by their bytes) and applies it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BodySlots } from './body-slots.ts';
import { encodeBatch, encodeSeriesColumns } from '../storage/batch-codec.ts';
import { countSamples } from '../storage/events.ts';
import { LSN_BYTES } from '../storage/wal-entry.ts';
import { decodeGeneral, fastMsgpackColumns } from './msgpack-ingest.ts';
import { newColumnScratch } from './msgpack-series-batch.ts';
import { nameThread } from '../storage/thread-priority.ts';
import { registerExactMsgpackTimestamps } from './time.ts';
import type { DecodeJob, DecodeReply, DecodeThreadData } from './decode-pool.ts';

const port = parentPort!;
const { slots, bodyBytes, entryBytes } = workerData as DecodeThreadData;
nameThread('strata-decode');
// As the main thread does at start: msgpack timestamps decode exactly (to the microsecond).
registerExactMsgpackTimestamps();
/** A series batch's columns, read here and copied into its WAL entry at once: one pair of arrays for every body. */
const seriesColumns = newColumnScratch();

port.on('message', (job: DecodeJob) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const region = job.slot >= 0 ? new Uint8Array(slots!, BodySlots.offsetOf(job.slot, bodyBytes, entryBytes) + bodyBytes, entryBytes) : undefined;
    const entry = walEntry(job, region);
    if (entry !== null && entry.buffer === slots) {
      reply = { id: job.id, ok: true, entry: null, entryLength: entry.length };
    } else {
      reply = { id: job.id, ok: true, entry, entryLength: 0 };
      if (entry) transfer = [entry.buffer as ArrayBuffer];
    }
  } catch (error) {
    const e = error as { status?: unknown; detail?: unknown; message?: unknown };
    reply = typeof e.status === 'number' && typeof e.detail === 'string'
      ? { id: job.id, ok: false, status: e.status, message: e.detail }
      : { id: job.id, ok: false, status: 500, message: String(e.message ?? error) };
  }
  port.postMessage(reply, transfer);
});
/**
 * The body's batch as a WAL entry but its LSN (the first LSN_BYTES bytes, left for the main
 * thread to fill in); null when it holds nothing. Written into `region` (the job's slot) when
 * it fits there, else into a buffer of its own to transfer (series-only batches at their
 * exact size).
 */
function walEntry(job: DecodeJob, region: Uint8Array | undefined): Uint8Array | null {
  // A slot is read in place; everything kept from it (labels, keys, the entry) is copied out.
  const bytes = job.bytes ?? new Uint8Array(slots!, BodySlots.offsetOf(job.slot, bodyBytes, entryBytes), job.length);
  const fast = job.format === 'msgpack' ? fastMsgpackColumns(bytes, job.defaultTtlSeconds, seriesColumns) : null;
  if (fast) return fast.columns.timestamps.length === 0 ? null : encodeSeriesColumns(fast.ttlSeconds, fast.columns, LSN_BYTES, region);
  const batch = decodeGeneral(bytes, job.format, job.defaultTtlSeconds);
  if (countSamples(batch) === 0) return null;
  return encodeBatch(batch, LSN_BYTES, region);
}

// Loaded (through tsx, which takes a while): the pool may send bodies now.
port.postMessage('ready');
