/**
 * A WAL record: the batch's log sequence number (LSN) then the encoded batch. LSNs
 * number ingest batches in the order they are applied; a segment file records the
 * highest LSN it covers, which is how replay skips batches already in segment files.
 *
 *   lsn (float64 LE, an integer) | batch (batch-codec.ts)
 */
import { decodeBatch, encodeBatch } from './batch-codec.ts';
import type { IngestBatch } from './events.ts';

export const LSN_BYTES = 8;

export interface WalEntry {
  lsn: number;
  batch: IngestBatch;
}

/** A buffer the WAL may hold until the append resolves: the batch's own walEntry when it has one, with the LSN filled in. */
export function encodeWalEntry(lsn: number, batch: IngestBatch): Uint8Array {
  const entry = batch.walEntry ?? encodeBatch(batch, LSN_BYTES);
  new DataView(entry.buffer, entry.byteOffset, LSN_BYTES).setFloat64(0, lsn, true);
  return entry;
}

export function decodeWalEntry(payload: Uint8Array): WalEntry {
  if (payload.length < LSN_BYTES) throw new Error(`WAL entry of ${payload.length} bytes is too short`);
  const lsn = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getFloat64(0, true);
  if (!Number.isSafeInteger(lsn) || lsn < 1) throw new Error(`WAL entry has a bad LSN ${lsn}`);
  return { lsn, batch: decodeBatch(payload.subarray(LSN_BYTES)) };
}
