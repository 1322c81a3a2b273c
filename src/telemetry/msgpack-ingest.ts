/**
 * Ingest bodies from bytes: msgpack (any valid msgpack, msgpackr records and typed arrays
 * included) or JSON, to a validated IngestBatch. One entry point for every transport (HTTP
 * routes, the WebSocket stream), so all of them accept exactly the same shapes.
 *
 * Everything here is synchronous and copies what it keeps: bins decode as views of `bytes`
 * (readNumberColumn copies them), which lets the WebSocket hand in a buffer uWS reuses.
 */
import { C1, unpack } from 'msgpackr';
import type { IngestBatch } from '../storage/events.ts';
import { badRequest } from './errors.ts';
import { DEFAULT_TTL_SECONDS, toIngestBatch } from './ingest.ts';
import { fastMetricEventsColumns } from './msgpack-metric-events.ts';
import { fastSeriesBatchColumns, type ColumnScratch } from './msgpack-series-batch.ts';
import { columnsBatch, type SeriesColumns } from '../storage/series-columns.ts';
import { validateIngest } from './schema.ts';

export type IngestFormat = 'json' | 'msgpack';

/** Decodes msgpack; ApiError 400 when malformed or truncated. */
export function unpackMsgpack(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = unpack(bytes);
  } catch (error) {
    // msgpackr decodes recursively: a deeply nested body runs out of stack, which is the body's fault.
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw badRequest('malformed msgpack body: nested too deeply');
    throw badRequest(`malformed msgpack body: ${(error as Error).message}`);
  }
  // msgpackr decodes the never-used byte 0xc1 to a marker object instead of failing.
  if (value === C1) throw badRequest('malformed msgpack body: never-used byte 0xc1');
  return value;
}

/** Parses JSON; ApiError 400 when malformed. */
export function parseJson(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`malformed JSON body: ${(error as Error).message}`);
  }
  // A "__proto__" key is an own property here but a prototype wherever an object is built from
  // it (labels, attributes, the msgpack WAL): refused rather than silently changed. Only bodies
  // that mention it pay for the second look.
  if (text.includes('__proto__')) {
    JSON.parse(text, (key, v: unknown) => {
      if (key === '__proto__') throw badRequest('keys named "__proto__" are not accepted (labels, attributes or fields)');
      return v;
    });
  }
  return value;
}

/**
 * Any ingest body (one event, `{events}`, `{series}`) to a batch; ApiError 400 when anything
 * in it is invalid. msgpack batches of metric events or series take their fast paths when they can.
 */
export function decodeIngestBatch(bytes: Uint8Array | null, format: IngestFormat, defaultTtlSeconds = DEFAULT_TTL_SECONDS): IngestBatch {
  const fast = format === 'msgpack' && bytes !== null ? columnsBatch(fastMsgpackColumns(bytes, defaultTtlSeconds)) : null;
  return fast ?? decodeGeneral(bytes, format, defaultTtlSeconds);
}

/**
 * A msgpack body through the fast paths (metric events, then series batches) as columns, or
 * null when neither is sure of it. `scratch`: see fastSeriesBatchColumns.
 */
export function fastMsgpackColumns(bytes: Uint8Array, defaultTtlSeconds: number, scratch?: ColumnScratch): { ttlSeconds: number; columns: SeriesColumns } | null {
  return fastMetricEventsColumns(bytes, defaultTtlSeconds) ?? fastSeriesBatchColumns(bytes, defaultTtlSeconds, scratch);
}

/** decodeIngestBatch without the fast path: msgpackr or JSON.parse, then the schema. */
export function decodeGeneral(bytes: Uint8Array | null, format: IngestFormat, defaultTtlSeconds = DEFAULT_TTL_SECONDS): IngestBatch {
  const value = bytes === null ? undefined : format === 'msgpack' ? unpackMsgpack(bytes) : parseJson(bytes);
  return ingestBatchFromValue(value, defaultTtlSeconds);
}

/** A decoded body to a batch: validated whole first, so a rejected body applies nothing. */
export function ingestBatchFromValue(value: unknown, defaultTtlSeconds = DEFAULT_TTL_SECONDS): IngestBatch {
  const result = validateIngest(value);
  if (!result.ok) throw result.error;
  return toIngestBatch(result.value, defaultTtlSeconds);
}
