/**
 * The fast path for series batches (SPEC §3), the shape high-volume clients send:
 * `{series: [{metric, labels, unit?, timestamps, values}], ttl_seconds?}` in plain msgpack,
 * each column a msgpackr Float64Array, a bin of little-endian float64s or an array of
 * numbers. It reads the bytes once, straight into one timestamps and one values column for
 * the whole batch (SeriesColumns), with no object per series: a label set is recognised by
 * its bytes (header-cache.ts), so one seen before costs a hash and a compare, and yields the
 * same header object as last time.
 *
 * Like the metric-event fast path it only takes what it is sure of: trace or span ids,
 * float32, other typed arrays, an unknown or repeated field, a series without samples, any
 * value the schema would refuse (unordered or out-of-range timestamps, unequal lengths, an
 * empty metric, labels that are not a map of primitives, invalid UTF-8) make it return null,
 * and the general path (msgpackr + the schema) decides, with its error messages.
 * test/ingest/fast-series.test.ts checks the two against each other on random bodies.
 */
import type { IngestBatch } from '../storage/events.ts';
import { HeaderCache, seriesHeader, type SeriesHeader } from '../storage/header-cache.ts';
import { columnsBatch, type SeriesColumns } from '../storage/series-columns.ts';
import { asciiBytes, MsgpackCursor, NOT_FAST, TTL_KEY, unlessNotFast, type RecordShape } from './msgpack-cursor.ts';
import { MAX_EPOCH_MILLIS } from './time.ts';

const SERIES_KEY = asciiBytes('series');
const F_METRIC = 1, F_LABELS = 2, F_UNIT = 4, F_TIMESTAMPS = 8, F_VALUES = 16;
const REQUIRED = F_METRIC | F_LABELS | F_TIMESTAMPS | F_VALUES;
const FIELDS: [Uint8Array, number][] = [
  [asciiBytes('metric'), F_METRIC], [asciiBytes('labels'), F_LABELS], [asciiBytes('unit'), F_UNIT], [asciiBytes('timestamps'), F_TIMESTAMPS], [asciiBytes('values'), F_VALUES],
];
/** msgpackr's typed-array extension (type 0x74, "t"), and its code for Float64Array. */
const TYPED_ARRAY_EXT = 0x74;
const FLOAT64_ARRAY_CODE = 8;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Marks an absent unit in a label set's key (msgpack nil: no string encodes to it). */
const NO_UNIT = 0xc0;
/** Marks labels sent as a msgpackr record in a label set's key (no map's encoding starts with it). */
const RECORD = 0xd4;

/** Label sets by the bytes of metric, unit and labels (this thread's; the main thread's WAL decoding has its own). */
const headers = new HeaderCache();
/** A label set's key (metric, unit and labels bytes end to end), built per series to look it up; one per thread, grown as needed. */
let key = new Uint8Array(256);
let keyView = new DataView(key.buffer);

/** Columns a caller lends the reader, batch after batch: a batch read into them is valid until the next one is. */
export interface ColumnScratch {
  timestamps: Float64Array;
  values: Float64Array;
}

export function newColumnScratch(): ColumnScratch {
  return { timestamps: new Float64Array(0), values: new Float64Array(0) };
}

export function fastSeriesBatch(bytes: Uint8Array, defaultTtlSeconds: number): IngestBatch | null {
  return columnsBatch(fastSeriesBatchColumns(bytes, defaultTtlSeconds));
}

/**
 * The batch as columns (what the WAL encoder takes at one copy per column); null when not
 * sure. With `scratch`, the columns are views of its arrays (grown when too small), which the
 * next call reuses: for a caller that copies the batch out at once (a decode thread).
 */
export function fastSeriesBatchColumns(bytes: Uint8Array, defaultTtlSeconds: number, scratch?: ColumnScratch): { ttlSeconds: number; columns: SeriesColumns } | null {
  if (!LITTLE_ENDIAN) return null;
  return unlessNotFast(() => new SeriesBatchReader(bytes, scratch).readBody(defaultTtlSeconds));
}

class SeriesBatchReader extends MsgpackCursor {
  private series: SeriesHeader[] = [];
  private start: number[] = [0];
  /** Both columns, grown as needed; `rows` of them are filled. */
  private timestamps: Float64Array;
  private values: Float64Array;
  private rows = 0;

  constructor(src: Uint8Array, private readonly scratch: ColumnScratch | undefined) {
    super(src, true);
    // A sample takes 16 bytes at least in the typed and bin forms, the ones worth sending.
    const capacity = Math.max(16, Math.ceil(src.length / 16));
    if (scratch !== undefined && scratch.timestamps.length >= capacity) {
      this.timestamps = scratch.timestamps;
      this.values = scratch.values;
    } else {
      this.timestamps = new Float64Array(capacity);
      this.values = new Float64Array(capacity);
    }
  }

  readBody(defaultTtlSeconds: number): { ttlSeconds: number; columns: SeriesColumns } {
    const fields = this.mapHeader();
    const shape = this.shape;
    let ttlSeconds = defaultTtlSeconds;
    let read = false;
    for (let f = 0; f < fields; f++) {
      const start = this.mapKey(shape, f);
      if (!read && this.bytesEqual(start, this.strLength, SERIES_KEY)) {
        const count = this.arrayHeader();
        for (let k = 0; k < count; k++) this.readSeries();
        read = true;
      } else if (this.bytesEqual(start, this.strLength, TTL_KEY)) {
        ttlSeconds = this.ttlSeconds();
      } else {
        throw NOT_FAST;
      }
    }
    if (!read || this.pos !== this.src.length) throw NOT_FAST;
    if (this.scratch !== undefined) {
      this.scratch.timestamps = this.timestamps;
      this.scratch.values = this.values;
    }
    const rows = this.rows;
    return {
      ttlSeconds,
      columns: { series: this.series, start: Int32Array.from(this.start), timestamps: this.timestamps.subarray(0, rows), values: this.values.subarray(0, rows) },
    };
  }

  private readSeries(): void {
    const fields = this.mapHeader();
    const shape = this.shape;
    let seen = 0;
    let metricStart = 0, metricEnd = 0, unitStart = 0, unitEnd = 0, labelsStart = 0, labelsBody = 0, labelsEnd = 0;
    let labelsShape: RecordShape | null = null;
    let timestampCount = -1, valueCount = -1;
    const from = this.rows;
    for (let f = 0; f < fields; f++) {
      const field = this.field(shape, f);
      if ((seen & field) !== 0) throw NOT_FAST;
      seen |= field;
      switch (field) {
        case F_METRIC:
          metricStart = this.pos;
          this.string();
          if (this.strLength === 0) throw NOT_FAST;
          metricEnd = this.pos;
          break;
        case F_UNIT:
          unitStart = this.pos;
          this.string();
          unitEnd = this.pos;
          break;
        case F_LABELS:
          labelsStart = this.pos;
          labelsShape = this.skipLabelMap();
          labelsBody = this.mapBodyStart;
          labelsEnd = this.pos;
          break;
        case F_TIMESTAMPS:
          timestampCount = this.readColumn(from, true);
          break;
        case F_VALUES:
          valueCount = this.readColumn(from, false);
          break;
      }
    }
    if ((seen & REQUIRED) !== REQUIRED || timestampCount !== valueCount || timestampCount === 0) throw NOT_FAST;
    this.rows = from + timestampCount;
    this.series.push(this.headerOf(metricStart, metricEnd, unitStart, unitEnd, labelsStart, labelsShape, labelsBody, labelsEnd));
    this.start.push(this.rows);
  }

  /** Which series field entry `f`'s key names. */
  private field(shape: RecordShape | null, f: number): number {
    const start = this.mapKey(shape, f);
    const length = this.strLength;
    for (let i = 0; i < FIELDS.length; i++) {
      const [name, field] = FIELDS[i]!;
      if (this.bytesEqual(start, length, name)) return field;
    }
    throw NOT_FAST;
  }

  // ---- columns ----

  /**
   * A column's numbers into rows from `from` on (timestamps as µs); returns how many. Each
   * column of a series starts at the same row, so timestamps and values line up whichever
   * comes first; `readSeries` checks their lengths agree.
   */
  private readColumn(from: number, timestamps: boolean): number {
    const b = this.byte();
    if (b === 0xc7 || b === 0xc8 || b === 0xc9) return this.readTypedArray(b, from, timestamps);
    if (b === 0xc4 || b === 0xc5 || b === 0xc6) return this.readFloat64Bytes(b === 0xc4 ? this.byte() : b === 0xc5 ? this.u16() : this.u32(), from, timestamps);
    this.pos--;
    return this.readNumberArray(from, timestamps);
  }

  /** msgpackr's typed-array extension: ext 8/16/32, type 0x74, then the array's code and bytes (native order). */
  private readTypedArray(header: number, from: number, timestamps: boolean): number {
    const length = header === 0xc7 ? this.byte() : header === 0xc8 ? this.u16() : this.u32();
    if (length < 1 || this.byte() !== TYPED_ARRAY_EXT || this.byte() !== FLOAT64_ARRAY_CODE) throw NOT_FAST;
    return this.readFloat64Bytes(length - 1, from, timestamps);
  }

  /** `length` bytes of little-endian float64s (a bin; or a typed array's, in this host's order: see LITTLE_ENDIAN). */
  private readFloat64Bytes(length: number, from: number, timestamps: boolean): number {
    if (length % 8 !== 0) throw NOT_FAST;
    const start = this.pos;
    this.skip(length);
    const count = length / 8;
    const column = this.room(from + count, timestamps);
    // Read one by one: they need not lie at a multiple of 8 in the body (a view would), and a
    // byte copy would need a subarray per column, which costs more than it saves.
    const view = this.view;
    for (let i = 0; i < count; i++) column[from + i] = view.getFloat64(start + i * 8, true);
    if (timestamps) millisToMicros(column, from, from + count);
    return count;
  }

  private readNumberArray(from: number, timestamps: boolean): number {
    const count = this.arrayHeader();
    const column = this.room(from + count, timestamps);
    for (let i = from; i < from + count; i++) {
      const b = this.src[this.pos];
      // uint64/int64 arrive as BigInt from msgpackr, and Number() of it is what the general path keeps.
      column[i] = b === 0xcf || b === 0xd3 ? this.int64Number(b === 0xd3) : this.number();
    }
    if (timestamps) millisToMicros(column, from, from + count);
    return count;
  }

  /**
   * A uint64 or int64 as the nearest double, as Number(BigInt) gives it: the high word times
   * 2^32 is exact, so the one rounding is the sum's.
   */
  private int64Number(signed: boolean): number {
    this.pos++;
    const at = this.pos;
    this.skip(8);
    const high = signed ? this.view.getInt32(at) : this.view.getUint32(at);
    return high * 4294967296 + this.view.getUint32(at + 4);
  }

  /** The column, grown to hold `rows` rows (both columns grow together, rows past `this.rows` included: the series' other column may be there). */
  private room(rows: number, timestamps: boolean): Float64Array {
    if (rows > this.timestamps.length) {
      const capacity = Math.max(rows, this.timestamps.length * 2);
      const ts = new Float64Array(capacity), values = new Float64Array(capacity);
      ts.set(this.timestamps);
      values.set(this.values);
      this.timestamps = ts;
      this.values = values;
    }
    return timestamps ? this.timestamps : this.values;
  }

  // ---- label sets ----

  /**
   * The header of a label set, by its bytes — metric, unit (NO_UNIT when absent) and labels
   * end to end, a record's labels as NO_UNIT's byte's neighbour 0xd4, its keys and its values
   * (so one label set sent as a map and as a record are two keys, each meaning one set):
   * decoded and remembered on first sight.
   */
  private headerOf(metricStart: number, metricEnd: number, unitStart: number, unitEnd: number, labelsStart: number, labelsShape: RecordShape | null, labelsBody: number, labelsEnd: number): SeriesHeader {
    const unitLength = unitEnd - unitStart;
    const metricLength = metricEnd - metricStart;
    const labelsLength = labelsShape === null ? labelsEnd - labelsStart : 1 + (labelsShape.keysEnd - labelsShape.keysStart) + (labelsEnd - labelsBody);
    const length = metricLength + (unitLength === 0 ? 1 : unitLength) + labelsLength;
    if (length > key.length) {
      key = new Uint8Array(Math.max(length, key.length * 2));
      keyView = new DataView(key.buffer);
    }
    let at = this.append(metricStart, metricEnd, 0);
    if (unitLength === 0) key[at++] = NO_UNIT;
    else at = this.append(unitStart, unitEnd, at);
    if (labelsShape === null) {
      at = this.append(labelsStart, labelsEnd, at);
    } else {
      key[at++] = RECORD;
      at = this.append(labelsShape.keysStart, labelsShape.keysEnd, at);
      at = this.append(labelsBody, labelsEnd, at);
    }
    const known = headers.lookup(key, keyView, 0, length);
    if (known !== undefined) return known;
    const header = seriesHeader(this.stringAt(metricStart), unitLength === 0 ? undefined : this.stringAt(unitStart), this.labelsAt(labelsStart));
    headers.remember(key.subarray(0, length), header);
    return header;
  }

  /** Copies the body's bytes [start, end) into the key at `at`; returns where they end. */
  private append(start: number, end: number, at: number): number {
    const src = this.src;
    for (let i = start; i < end; i++) key[at++] = src[i]!;
    return at;
  }

  /** The text of the msgpack string at `start`. */
  private stringAt(start: number): string {
    const saved = this.pos;
    this.pos = start;
    const at = this.string();
    this.pos = saved;
    return this.text(at, this.strLength);
  }
}

/**
 * Epoch ms to µs in place, checking what the schema asks of them (in ms, as it does): within
 * range and in time order.
 */
function millisToMicros(column: Float64Array, from: number, to: number): void {
  let previous = -Infinity;
  for (let i = from; i < to; i++) {
    const t = column[i]!;
    if (!(Math.abs(t) <= MAX_EPOCH_MILLIS) || t < previous) throw NOT_FAST;
    previous = t;
    column[i] = Math.round(t * 1000);
  }
}
