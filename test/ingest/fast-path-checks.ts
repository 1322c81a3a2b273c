/**
 * What the msgpack fast paths (metric events, series batches) are checked against: the
 * general path (msgpackr + the schema), on valid bodies and on corrupted ones.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { IngestBatch } from '../../src/storage/events.ts';
import { ingestBatchFromValue, unpackMsgpack } from '../../src/telemetry/msgpack-ingest.ts';

/** The general path's batch for `bytes`, or the error it answers with. */
export function generalBatch(bytes: Uint8Array, ttlSeconds: number): IngestBatch | Error {
  try {
    return ingestBatchFromValue(unpackMsgpack(bytes), ttlSeconds);
  } catch (error) {
    return error as Error;
  }
}

/**
 * Property: a body with one byte changed or cut short is never taken by the fast path when
 * the general path refuses it, and when both take it they read the same samples.
 */
export function checkCorruptedBodies<B>(
  body: fc.Arbitrary<B>, encode: (b: B) => Uint8Array, fast: (bytes: Uint8Array) => IngestBatch | null,
  samples: (batch: IngestBatch) => string[], ttlSeconds: number, numRuns: number,
): void {
  const corruption = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), cut: fc.boolean() });
  fc.assert(fc.property(body, corruption, (b, c) => {
    const bytes = new Uint8Array(encode(b));
    if (bytes.length === 0) return;
    const at = c.at % bytes.length;
    const corrupted = c.cut ? bytes.subarray(0, at) : (bytes[at] = c.byte, bytes);
    const taken = fast(corrupted);
    const slow = generalBatch(corrupted, ttlSeconds);
    if (slow instanceof Error) expect(taken).toBeNull();
    else if (taken) expect(samples(taken)).toEqual(samples(slow));
  }), { numRuns });
}
