/**
 * An ingest decode thread (decode-pool.ts): body bytes in, the batch's WAL encoding out.
 * Decoding and validating a body and encoding its batch are most of an ingest's CPU; done
 * here, they run beside the main thread, which only decodes the compact encoding (cheap:
 * label sets are recognised by their bytes) and applies it.
 */
import { parentPort } from 'node:worker_threads';
import { encodeBatch, encodeSeriesColumns } from '../storage/batch-codec.ts';
import { countSamples } from '../storage/events.ts';
import { decodeGeneral } from './msgpack-ingest.ts';
import { fastMetricEventsColumns } from './msgpack-metric-events.ts';
import { nameThread } from '../storage/thread-priority.ts';
import { registerExactMsgpackTimestamps } from './time.ts';
import type { DecodeJob, DecodeReply } from './decode-pool.ts';

const port = parentPort!;
nameThread('strata-decode');
// As the main thread does at start: msgpack timestamps decode exactly (to the microsecond).
registerExactMsgpackTimestamps();

port.on('message', (job: DecodeJob) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const encoded = encode(job);
    reply = { id: job.id, ok: true, encoded };
    if (encoded) transfer = [encoded.buffer as ArrayBuffer];
  } catch (error) {
    const e = error as { status?: unknown; detail?: unknown; message?: unknown };
    reply = typeof e.status === 'number' && typeof e.detail === 'string'
      ? { id: job.id, ok: false, status: e.status, message: e.detail }
      : { id: job.id, ok: false, status: 500, message: String(e.message ?? error) };
  }
  port.postMessage(reply, transfer);
});
/**
 * The body's batch in WAL encoding, in a buffer of its own (new Uint8Array copies; a Buffer's
 * slice() would not: the encoders' results are views into buffers they reuse, which must not
 * be transferred); null when it holds nothing. Metric-event batches go from the grouper's
 * columns straight to bytes, without per-series entries.
 */
function encode(job: DecodeJob): Uint8Array | null {
  const fast = job.format === 'msgpack' ? fastMetricEventsColumns(job.bytes, job.defaultTtlSeconds) : null;
  if (fast) return fast.columns.timestamps.length === 0 ? null : new Uint8Array(encodeSeriesColumns(fast.ttlSeconds, fast.columns));
  const batch = decodeGeneral(job.bytes, job.format, job.defaultTtlSeconds);
  return countSamples(batch) === 0 ? null : new Uint8Array(encodeBatch(batch));
}

// Loaded (through tsx, which takes a while): the pool may send bodies now.
port.postMessage('ready');
