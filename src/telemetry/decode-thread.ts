/**
 * An ingest decode thread (decode-pool.ts): body bytes in, the batch's WAL entry (less its
 * LSN) out.
 * Decoding and validating a body and encoding its batch are most of an ingest's CPU; done
 * here, they run beside the main thread, which only decodes the compact encoding (cheap:
 * label sets are recognised by their bytes) and applies it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBatch, encodeSeriesColumns } from '../storage/batch-codec.ts';
import { countSamples } from '../storage/events.ts';
import { LSN_BYTES } from '../storage/wal-entry.ts';
import { decodeGeneral } from './msgpack-ingest.ts';
import { fastMetricEventsColumns } from './msgpack-metric-events.ts';
import { nameThread } from '../storage/thread-priority.ts';
import { registerExactMsgpackTimestamps } from './time.ts';
import type { DecodeJob, DecodeReply, DecodeThreadData } from './decode-pool.ts';

const port = parentPort!;
const { slots, slotBytes } = workerData as DecodeThreadData;
nameThread('strata-decode');
// As the main thread does at start: msgpack timestamps decode exactly (to the microsecond).
registerExactMsgpackTimestamps();

port.on('message', (job: DecodeJob) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const entry = walEntry(job);
    reply = { id: job.id, ok: true, entry };
    if (entry) transfer = [entry.buffer as ArrayBuffer];
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
 * thread to fill in), in a buffer of its own to transfer; null when it holds nothing.
 * Every batch is encoded straight into that buffer (series-only ones at their exact size).
 */
function walEntry(job: DecodeJob): Uint8Array | null {
  // A slot is read in place; everything kept from it (labels, keys, the entry) is copied out.
  const bytes = job.bytes ?? new Uint8Array(slots!, job.slot * slotBytes, job.length);
  const fast = job.format === 'msgpack' ? fastMetricEventsColumns(bytes, job.defaultTtlSeconds) : null;
  if (fast) return fast.columns.timestamps.length === 0 ? null : encodeSeriesColumns(fast.ttlSeconds, fast.columns, LSN_BYTES);
  const batch = decodeGeneral(bytes, job.format, job.defaultTtlSeconds);
  if (countSamples(batch) === 0) return null;
  return encodeBatch(batch, LSN_BYTES);
}

// Loaded (through tsx, which takes a while): the pool may send bodies now.
port.postMessage('ready');
