/**
 * IngestBatch <-> bytes, the WAL's record payload. Every message is self-contained: a fresh
 * decoder reads any record on its own, which replay after a crash needs. Two layouts:
 *
 * - Series-only batches (what both high-volume ingest paths produce) use a hand-laid binary
 *   layout (format 2, below): the series' headers (metric, unit, labels), then the batch's
 *   columns — timestamps and values as raw float64 bytes, ids as uint32 codes into a batch
 *   dictionary. Encoding is a few copies: a label set's header bytes are cached per labels
 *   object, which the fast decoders hand out once per label set and never change, and runs
 *   that already lie back to back in one buffer (the grouper's) are copied at once. Decoding
 *   copies each column once and returns the batch as columns (IngestBatch.columns): a batch of
 *   thousands of short series costs no allocation per series.
 * - Anything with events uses msgpack with msgpackr's record extension (repeated event shapes
 *   cost their keys once per message) and typed-array extension (format 1). Metric values are
 *   lifted out of the metric events into one Float64Array: an exact round trip for every
 *   float64 (-0 included, which msgpack's integer encoding would turn into 0). Attribute
 *   numbers go as msgpack numbers, so an attribute's -0 comes back as 0, as it does from the
 *   JSON the span and log tables keep attributes in.
 *
 * Format 3, little-endian:
 *   0xc1 (a byte msgpack never uses, so no format-1 message starts with it) | u8 3 |
 *   f64 ttl | u32 dictionaries | per dictionary: u32 count, count × string |
 *   u32 series | per series: u32 header bytes | header | u32 n | u32 dictionary index + 1 (0 = no ids) |
 *   0-7 zero bytes, so that the columns start at a multiple of 8 from the message's start |
 *   the columns, each the series' runs back to back in series order: f64 timestamps | f64 values |
 *     u32 trace codes | u32 span codes (these two of the series with ids only)
 *   header: string metric | string unit (absent = empty) | u8 unit given | u32 labels | labels × (string name, string value)
 * Decoding keeps the header bytes it has seen (header-cache.ts), so a label set that comes
 * again is one hash and compare, and its metric, unit and labels object are the same as last
 * time — which also lets the series registry find it by object.
 *   string: u32 byte length | UTF-8 bytes
 * Format 2 (WAL records written before) is format 3 without the padding, and still decodes.
 * The padding lets the decoder read the columns in place wherever the message itself lies at
 * a multiple of 8 (a decode thread's entry, LSN_BYTES into its buffer or a body slot): views,
 * no copy — a copy out of shared memory (a body slot) goes a byte at a time.
 */
import { Packr, Unpackr } from 'msgpackr';
import { ByteReader, ByteWriter } from './bytes.ts';
import { HeaderCache, seriesHeader, type SeriesHeader } from './header-cache.ts';
import type { EngineEvent, IngestBatch, MetricEvent, SampleIds, SeriesEntry } from './events.ts';
import { sampleIdsFromStrings } from './sample-ids.ts';
import { allSeriesEntries, type SeriesColumns } from './series-columns.ts';

const FORMAT_MSGPACK = 1;
const FORMAT_BINARY = 3;
/** Format 2: the same without the padding before the columns. */
const FORMAT_BINARY_UNPADDED = 2;
const BINARY_MAGIC = 0xc1;

interface WireBatch {
  v: number;
  ttl: number;
  /** value of the i-th metric event, in event order. */
  values: Float64Array;
  /** Metric events without their value; other events as they are. */
  events: WireEvent[];
  series: WireSeries[];
}

type WireEvent = Omit<MetricEvent, 'value'> | Exclude<EngineEvent, MetricEvent>;
/** Format-1 series; records written before ids became codes carry `traceIds`/`spanIds` strings. */
type WireSeries = SeriesEntry & { traceIds?: (string | null)[]; spanIds?: (string | null)[] };

const packr = new Packr({ useRecords: true, moreTypes: true });
const unpackr = new Unpackr({ useRecords: true, moreTypes: true });

/**
 * The batch's bytes. With `headroom`, that many bytes come first, left for the caller (a WAL
 * entry's LSN); series-only batches are then encoded into a buffer of exactly that size, which
 * the result is whole (a decode thread transfers it as it is) — or into the front of `into`
 * when it has room (a body slot's entry region, body-slots.ts).
 */
export function encodeBatch(batch: IngestBatch, headroom = 0, into?: Uint8Array): Uint8Array {
  const columns = batch.columns;
  if (columns && batch.series.length === 0 && batch.events.length === 0) return encodeSeriesColumns(batch.ttlSeconds, columns, headroom, into);
  const whole = columns ? { ...batch, series: allSeriesEntries(batch), columns: undefined } : batch;
  if (whole.events.length === 0) return encodeBinary(whole, headroom, into);
  const encoded = encodeMsgpack(whole);
  if (headroom === 0) return encoded;
  const out = new Uint8Array(headroom + encoded.length);
  out.set(encoded, headroom);
  return out;
}

export function decodeBatch(bytes: Uint8Array): IngestBatch {
  return bytes[0] === BINARY_MAGIC ? decodeBinary(bytes) : decodeMsgpack(bytes);
}

// ---- format 2: series batches ----

/** A class, not an object literal: long-lived literals make V8 recompile code that inlines them (see header-cache.ts). */
class CachedHeader {
  constructor(readonly metric: string, readonly unit: string | undefined, readonly bytes: Uint8Array) {}
}

/** Header bytes by labels object (checked against metric and unit, which may differ for a shared object). */
const headers = new WeakMap<Record<string, string>, CachedHeader>();
/** Decoded headers by their bytes. */
const headerCache = new HeaderCache();

function encodeBinary(batch: IngestBatch, headroom: number, into?: Uint8Array): Uint8Array {
  const series = batch.series;
  const dictionaries: string[][] = [];
  const dictionaryIndex = new Map<string[], number>();
  for (const s of series) {
    if (s.ids && !dictionaryIndex.has(s.ids.dictionary)) {
      dictionaryIndex.set(s.ids.dictionary, dictionaries.length);
      dictionaries.push(s.ids.dictionary);
    }
  }
  // The exact size: no growing (a copy each time) and no copy into an entry of its own after.
  let table = 18 + dictionaries.length * 4 + series.length * 12, columns = 0;
  for (const d of dictionaries) for (const id of d) table += 4 + Buffer.byteLength(id, 'utf8');
  for (const s of series) {
    table += headerBytes(s).length;
    columns += s.timestamps.length * (s.ids ? 24 : 16);
  }
  const w = writerOf(headroom + table + columnPadding(table) + columns, into);
  w.skip(headroom);
  startBinary(w, batch.ttlSeconds, dictionaries, series.length);
  for (const s of series) writeSeries(w, headerBytes(s), s.timestamps.length, s.ids ? dictionaryIndex.get(s.ids.dictionary)! + 1 : 0);
  w.zeros(columnPadding(table));
  w.column(series, (s) => s.timestamps);
  w.column(series, (s) => s.values);
  w.column(series, (s) => s.ids?.trace);
  w.column(series, (s) => s.ids?.span);
  return w.result();
}

/**
 * A series-only batch given as columns (the metric-event grouper's): the same bytes as
 * encodeBatch of its entries, with one copy per column.
 */
export function encodeSeriesColumns(ttlSeconds: number, c: SeriesColumns, headroom = 0, into?: Uint8Array): Uint8Array {
  const rows = c.timestamps.length;
  // The exact size, so that the result is its buffer whole (a decode thread transfers it as it is).
  let table = 18 + (c.ids ? 4 : 0) + c.series.length * 12;
  if (c.ids) for (const id of c.ids.dictionary) table += 4 + Buffer.byteLength(id, 'utf8');
  // Looked up once per series (a batch of metric events names thousands).
  const headers: Uint8Array[] = new Array(c.series.length);
  for (let k = 0; k < c.series.length; k++) table += (headers[k] = headerBytes(c.series[k]!)).length;
  const w = writerOf(headroom + table + columnPadding(table) + rows * (c.ids ? 24 : 16), into);
  w.skip(headroom);
  startBinary(w, ttlSeconds, c.ids ? [c.ids.dictionary] : [], c.series.length);
  for (let k = 0; k < c.series.length; k++) writeSeries(w, headers[k]!, c.start[k + 1]! - c.start[k]!, c.ids ? 1 : 0);
  w.zeros(columnPadding(table));
  w.typed(c.timestamps);
  w.typed(c.values);
  if (c.ids) {
    w.typed(c.ids.trace);
    w.typed(c.ids.span);
  }
  return w.result();
}

/** Zero bytes after a series table of `tableBytes`, to put the columns at a multiple of 8. */
function columnPadding(tableBytes: number): number {
  return (8 - (tableBytes % 8)) % 8;
}

/** A writer for exactly `size` bytes: into the front of `into` when they fit there, else a buffer of that size. */
function writerOf(size: number, into: Uint8Array | undefined): ByteWriter {
  return into !== undefined && size <= into.length ? new ByteWriter(0, into.subarray(0, size)) : new ByteWriter(size);
}

function startBinary(w: ByteWriter, ttlSeconds: number, dictionaries: readonly string[][], seriesCount: number): ByteWriter {
  w.u8(BINARY_MAGIC);
  w.u8(FORMAT_BINARY);
  w.f64(ttlSeconds);
  w.u32(dictionaries.length);
  for (const d of dictionaries) {
    w.u32(d.length);
    for (const id of d) w.string(id);
  }
  w.u32(seriesCount);
  return w;
}

function writeSeries(w: ByteWriter, header: Uint8Array, rows: number, dictionary: number): void {
  w.u32(header.length);
  w.bytes(header);
  w.u32(rows);
  w.u32(dictionary);
}

/** What a series header is made of. */
type SeriesHead = Pick<SeriesEntry, 'metric' | 'unit' | 'labels'>;

function headerBytes(s: SeriesHead): Uint8Array {
  const cached = headers.get(s.labels);
  if (cached && cached.metric === s.metric && cached.unit === s.unit) return cached.bytes;
  const w = new ByteWriter(64);
  w.string(s.metric);
  w.string(s.unit ?? '');
  w.u8(s.unit === undefined ? 0 : 1);
  const names = Object.keys(s.labels);
  w.u32(names.length);
  for (const name of names) {
    w.string(name);
    w.string(s.labels[name]!);
  }
  const bytes = w.result().slice();
  headers.set(s.labels, new CachedHeader(s.metric, s.unit, bytes));
  return bytes;
}

function readHeader(r: ByteReader): SeriesHeader {
  const metric = r.string();
  const unit = r.string();
  const unitGiven = r.u8() === 1;
  const labels: Record<string, string> = {};
  const labelCount = r.u32();
  for (let l = 0; l < labelCount; l++) {
    const name = r.string();
    const value = r.string();
    // `labels.__proto__ = v` would not make a property; the label must survive replay as it was.
    if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
    else labels[name] = value;
  }
  if (!r.done) throw new Error('batch codec: a series header is longer than its labels');
  return seriesHeader(metric, unitGiven ? unit : undefined, labels);
}

function decodeBinary(bytes: Uint8Array): IngestBatch {
  const r = new ByteReader(bytes, 'batch codec');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  r.u8();
  const version = r.u8();
  if (version !== FORMAT_BINARY && version !== FORMAT_BINARY_UNPADDED) throw new Error(`batch codec: unknown format version ${version}`);
  const ttlSeconds = r.f64();
  const dictionaries: string[][] = new Array(r.u32());
  for (let d = 0; d < dictionaries.length; d++) {
    const ids: string[] = new Array(r.u32());
    for (let i = 0; i < ids.length; i++) ids[i] = r.string();
    dictionaries[d] = ids;
  }
  const count = r.u32();
  const series: SeriesHeader[] = new Array(count);
  const start = new Int32Array(count + 1);
  const withIds = new Uint32Array(count);
  let samples = 0, idSamples = 0;
  for (let k = 0; k < count; k++) {
    const headerLength = r.u32();
    const headerStart = r.skip(headerLength);
    let header = headerCache.lookup(bytes, view, headerStart, headerLength);
    if (header === undefined) {
      const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
      header = readHeader(new ByteReader(headerBytes, `batch codec: series ${k} header`));
      headerCache.remember(headerBytes, header);
    }
    series[k] = header;
    const n = r.u32();
    start[k] = samples;
    samples += n;
    const dictionary = (withIds[k] = r.u32());
    if (dictionary !== 0) {
      if (dictionary > dictionaries.length) throw new Error(`batch codec: series ${k} names dictionary ${dictionary - 1} of ${dictionaries.length}`);
      idSamples += n;
    }
  }
  start[count] = samples;
  // One array per column for the whole batch, no object per series: the store applies runs by offset.
  if (version === FORMAT_BINARY) {
    for (let pad = columnPadding(r.pos); pad > 0; pad--) if (r.u8() !== 0) throw new Error('batch codec: non-zero padding before the columns');
  }
  // In place when aligned (views of the message: the caller keeps the message while it uses the batch).
  const timestamps = r.f64sInPlace(samples), values = r.f64sInPlace(samples);
  const trace = r.u32sInPlace(idSamples), span = r.u32sInPlace(idSamples);
  if (!r.done) throw new Error(`batch codec: ${bytes.length - r.pos} bytes after the last column`);
  const ids = idSamples === 0 ? undefined : rowIds(dictionaries, start, withIds, trace, span);
  return { ttlSeconds, events: [], series: [], columns: { series, start, timestamps, values, ids } };
}

/**
 * The id columns, which the encoding keeps for the series with ids only, as one code per row
 * in one dictionary. The usual batch (one dictionary, every series with ids) is taken as it
 * is; otherwise the dictionaries are laid end to end and the codes shifted to match.
 */
function rowIds(dictionaries: string[][], start: Int32Array, withIds: Uint32Array, trace: Uint32Array, span: Uint32Array): SampleIds {
  const rows = start[start.length - 1]!;
  if (dictionaries.length === 1 && trace.length === rows) return { dictionary: dictionaries[0]!, trace, span };
  const base = new Uint32Array(dictionaries.length + 1);
  for (let d = 0; d < dictionaries.length; d++) base[d + 1] = base[d]! + dictionaries[d]!.length;
  const allTrace = new Uint32Array(rows), allSpan = new Uint32Array(rows);
  let at = 0;
  for (let k = 0; k < withIds.length; k++) {
    if (withIds[k] === 0) continue;
    const shift = base[withIds[k]! - 1]!;
    for (let row = start[k]!; row < start[k + 1]!; row++, at++) {
      allTrace[row] = trace[at] === 0 ? 0 : trace[at]! + shift;
      allSpan[row] = span[at] === 0 ? 0 : span[at]! + shift;
    }
  }
  return { dictionary: dictionaries.flat(), trace: allTrace, span: allSpan };
}
// ---- format 1: msgpack, batches with events ----

function encodeMsgpack(batch: IngestBatch): Uint8Array {
  const n = batch.events.length;
  let metricCount = 0;
  for (let i = 0; i < n; i++) if (batch.events[i].kind === 'metric') metricCount++;
  let events: WireEvent[] = batch.events;
  const values = new Float64Array(metricCount);
  if (metricCount > 0) {
    events = new Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const e = batch.events[i];
      if (e.kind === 'metric') {
        values[m++] = e.value;
        const { value: _value, ...rest } = e;
        events[i] = rest;
      } else {
        events[i] = e;
      }
    }
  }
  const wire: WireBatch = { v: FORMAT_MSGPACK, ttl: batch.ttlSeconds, values, events, series: batch.series.map(wireSeries) };
  return packr.pack(wire);
}

/** The entry's own fields only: consumers leave memo fields on entries (SeriesName, labelsCheckedBy). */
function wireSeries(s: SeriesEntry): WireSeries {
  const out: WireSeries = { metric: s.metric, labels: s.labels, timestamps: s.timestamps, values: s.values };
  if (s.unit !== undefined) out.unit = s.unit;
  if (s.ids !== undefined) out.ids = s.ids;
  return out;
}

function decodeMsgpack(bytes: Uint8Array): IngestBatch {
  const wire = unpackr.unpack(bytes) as WireBatch;
  if (wire === null || typeof wire !== 'object' || wire.v !== FORMAT_MSGPACK) {
    throw new Error(`batch codec: unknown format version ${String((wire as WireBatch | null)?.v)}`);
  }
  const n = wire.events.length;
  const events = wire.events as EngineEvent[];
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e = wire.events[i];
    if (e.kind === 'metric') events[i] = { ...e, value: wire.values[m++] };
  }
  if (m !== wire.values.length) throw new Error(`batch codec: ${m} metric events but ${wire.values.length} values`);
  return { ttlSeconds: wire.ttl, events, series: wire.series.map(seriesFromWire) };
}

function seriesFromWire(s: WireSeries): SeriesEntry {
  if (!s.traceIds && !s.spanIds) return s;
  const { traceIds, spanIds, ...rest } = s;
  const ids: SampleIds | undefined = sampleIdsFromStrings(s.timestamps.length, traceIds, spanIds);
  return ids ? { ...rest, ids } : rest;
}
