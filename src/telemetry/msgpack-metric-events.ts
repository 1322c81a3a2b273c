/**
 * The fast path for the commonest high-volume body: `{events: [metric events], ttl_seconds?}`
 * in plain msgpack. It reads the bytes once, straight into series columns, without an object
 * per event: numbers are read in place, and a label set is recognised by its bytes — the
 * encoded metric, unit and attributes map are hashed and compared, and a set seen before
 * (in this batch or an earlier one) costs that one lookup, with no strings built for it.
 *
 * It only takes what it is sure of. Anything else — another event type, msgpackr records or
 * typed arrays, an unknown or repeated field, 64-bit or float32 numbers, invalid UTF-8, any
 * value the schema would refuse — makes it return null, and the general path (msgpackr +
 * the schema) decides, with its error messages. So it accepts only bodies the schema
 * accepts and converts them as the general path does (test/ingest/fast-events.test.ts
 * checks the two against each other on random bodies).
 */
import type { IngestBatch } from '../storage/events.ts';
import { hashBytes, seriesHeader, smallKey, type SeriesHeader } from '../storage/header-cache.ts';
import { KeyArena } from '../storage/key-arena.ts';
import type { IdDictionaryBuilder } from '../storage/sample-ids.ts';
import { columnsBatch, type SeriesColumns } from '../storage/series-columns.ts';
import { SeriesGrouper } from './series-grouper.ts';
import { epochMillisToMicros, msgpackTimestampToMicros, parseIsoTimestamp } from './time.ts';
import { asciiBytes, isStringHeader, MsgpackCursor, NOT_FAST, NotFast, TTL_KEY, unlessNotFast } from './msgpack-cursor.ts';


const F_TYPE = 1, F_TRACE = 2, F_SPAN = 4, F_TIMESTAMP = 8, F_METRIC = 16, F_VALUE = 32, F_UNIT = 64, F_ATTRIBUTES = 128;
const REQUIRED = F_TYPE | F_TRACE | F_SPAN | F_TIMESTAMP | F_METRIC | F_VALUE | F_UNIT;

const EVENT_FIELDS: [Uint8Array, number][] = [
  [asciiBytes('type'), F_TYPE], [asciiBytes('trace_id'), F_TRACE], [asciiBytes('span_id'), F_SPAN], [asciiBytes('timestamp'), F_TIMESTAMP],
  [asciiBytes('metric'), F_METRIC], [asciiBytes('value'), F_VALUE], [asciiBytes('unit'), F_UNIT], [asciiBytes('attributes'), F_ATTRIBUTES],
];
/**
 * Each field's key as msgpack encodes it (fixstr header + name, 5 to 11 bytes), by field bit
 * index, as big-endian int32 words to compare a word at a time: at offsets 0, 4, ... and,
 * when the length is no multiple of 4, one more ending at the last byte (overlapping).
 */
interface EventKey {
  length: number;
  words: Int32Array;
  offsets: Int32Array;
}
const EVENT_KEYS: EventKey[] = [];
for (const [name, field] of EVENT_FIELDS) {
  const bytes = Uint8Array.of(0xa0 | name.length, ...name);
  const view = new DataView(bytes.buffer);
  const offsets: number[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4) offsets.push(at);
  if (bytes.length % 4 !== 0) offsets.push(bytes.length - 4);
  EVENT_KEYS[31 - Math.clz32(field)] = { length: bytes.length, words: Int32Array.from(offsets, (at) => view.getInt32(at)), offsets: Int32Array.from(offsets) };
}
const NO_FIELD = 0xff;
/** EVENT_FIELDS indexed by name length. */
const EVENT_FIELD_BY_LENGTH: ([Uint8Array, number][] | undefined)[] = [];
for (const entry of EVENT_FIELDS) (EVENT_FIELD_BY_LENGTH[entry[0].length] ??= []).push(entry);
const EVENTS_KEY = asciiBytes('events');
const METRIC_TYPE = asciiBytes('metric');

/** Where the previous event's trace or span id was, and its code. */
interface LastId {
  start: number;
  length: number;
  code: number;
}

/** A label set seen before, by the bytes of its metric, unit and attributes. */
interface KnownSeries {
  /** Where its key (the bytes of metric, unit and attributes, end to end) is in `keys`, and its length. */
  keyStart: number;
  keyLength: number;
  metricLength: number;
  unitLength: number;
  /** The same object every batch (SeriesGrouper.newGroup). */
  header: SeriesHeader;
  /** The batch that last used it, and its group there. */
  batch: number;
  group: number;
  next: KnownSeries | null;
  /** The series of the event that came after this one's last time (senders repeat their order). */
  follower: KnownSeries | null;
}

/** Process-wide, so a label set is decoded once however many batches repeat it; cleared when large. */
const known = new Map<number, KnownSeries>();
const MAX_KNOWN = 200_000;
/** The series of the last event read (for the follower guess). */
let lastSeries: KnownSeries | null = null;
let batchCounter = 0;
/** Every known series' key (key-arena.ts), in the order the series were first seen. */
const keys = new KeyArena();

/** The batch, or null when the body is not one the fast path is sure of. */
export function fastMetricEventsBatch(bytes: Uint8Array, defaultTtlSeconds: number): IngestBatch | null {
  return columnsBatch(fastMetricEventsColumns(bytes, defaultTtlSeconds));
}

/** The same, as columns (what the WAL encoder takes at one copy per column); null when not sure. */
export function fastMetricEventsColumns(bytes: Uint8Array, defaultTtlSeconds: number): { ttlSeconds: number; columns: SeriesColumns } | null {
  return unlessNotFast(() => new MetricEventsReader(bytes).readBody(defaultTtlSeconds));
}

class MetricEventsReader extends MsgpackCursor {
  private readonly batch = ++batchCounter;
  /** The previous event's ids, reused while the bytes repeat (events of one span come together). */
  private lastTrace: LastId = { start: -1, length: 0, code: 0 };
  private lastSpan: LastId = { start: -1, length: 0, code: 0 };
  private ids: IdDictionaryBuilder | null = null;
  /**
   * The field (bit index) at each position of the last event: senders write every event's
   * keys in one order, so a key is recognised by comparing its bytes with the one expected
   * there, without decoding a string header or picking candidates.
   */
  private readonly fieldOrder = new Uint8Array(16).fill(NO_FIELD);

  readBody(defaultTtlSeconds: number): { ttlSeconds: number; columns: SeriesColumns } {
    const fields = this.mapHeader();
    let ttlSeconds = defaultTtlSeconds;
    let grouper: SeriesGrouper | null = null;
    for (let f = 0; f < fields; f++) {
      const start = this.string();
      if (this.bytesEqual(start, this.strLength, EVENTS_KEY) && grouper === null) {
        grouper = this.readEvents();
      } else if (this.bytesEqual(start, this.strLength, TTL_KEY)) {
        ttlSeconds = this.ttlSeconds();
      } else {
        throw NOT_FAST;
      }
    }
    if (grouper === null || this.pos !== this.src.length) throw NOT_FAST;
    return { ttlSeconds, columns: grouper.finishColumns() };
  }

  private readEvents(): SeriesGrouper {
    const count = this.arrayHeader();
    const grouper = new SeriesGrouper(count);
    this.ids = grouper.ids;
    for (let i = 0; i < count; i++) this.readEvent(grouper);
    return grouper;
  }

  private readEvent(grouper: SeriesGrouper): void {
    const fields = this.mapHeader();
    let seen = 0;
    let traceCode = 0, spanCode = 0, ts = 0, value = 0;
    let metricStart = 0, metricLength = 0, unitStart = 0, unitLength = 0, attributesStart = 0, attributesEnd = 0;
    let attributesGuessed = false;
    for (let f = 0; f < fields; f++) {
      const field = this.eventField(f);
      if ((seen & field) !== 0) throw NOT_FAST;
      seen |= field;
      switch (field) {
        case F_TYPE:
          if (!this.bytesEqual(this.string(), this.strLength, METRIC_TYPE)) throw NOT_FAST;
          break;
        case F_TRACE: traceCode = this.id(this.lastTrace); break;
        case F_SPAN: spanCode = this.id(this.lastSpan); break;
        case F_TIMESTAMP: ts = this.timestampMicros(); break;
        case F_METRIC:
          metricStart = this.string();
          metricLength = this.strLength;
          if (metricLength === 0) throw NOT_FAST;
          break;
        case F_VALUE:
          value = this.number();
          if (!Number.isFinite(value)) throw NOT_FAST;
          break;
        case F_UNIT:
          unitStart = this.string();
          unitLength = this.strLength;
          break;
        case F_ATTRIBUTES:
          attributesStart = this.pos;
          attributesGuessed = this.skipGuessedAttributes();
          if (!attributesGuessed) this.skipAttributes();
          attributesEnd = this.pos;
          break;
      }
    }
    if ((seen & REQUIRED) !== REQUIRED) throw NOT_FAST;
    const series = this.seriesOf(metricStart, metricLength, unitStart, unitLength, attributesStart, attributesEnd, attributesGuessed);
    if (series.batch !== this.batch) {
      series.batch = this.batch;
      series.group = grouper.newGroup(series.header);
    }
    grouper.addToGroup(series.group, ts, value, traceCode, spanCode);
  }

  /**
   * Steps over the attributes when their bytes are those of the series expected next (the
   * last event's follower): bytes once checked by skipAttributes are a valid map, and
   * reading the same bytes again would end at the same place, so they need no second look.
   */
  private skipGuessedAttributes(): boolean {
    const guess = lastSeries === null ? null : lastSeries.follower;
    if (guess === null) return false;
    const offset = guess.metricLength + guess.unitLength;
    const length = guess.keyLength - offset;
    if (length === 0 || this.pos + length > this.src.length || !this.rangeEquals(guess, this.pos, length, offset)) return false;
    this.pos += length;
    return true;
  }

  /**
   * The known series for these byte ranges, decoding and remembering them on first sight.
   * `attributesGuessed`: the attributes were recognised as the guess's (skipGuessedAttributes).
   */
  private seriesOf(metricStart: number, metricLength: number, unitStart: number, unitLength: number, attrStart: number, attrEnd: number, attributesGuessed: boolean): KnownSeries {
    const attrLength = attrEnd - attrStart;
    const previous = lastSeries;
    const guess = previous === null ? null : previous.follower;
    if (guess !== null && this.isSeries(guess, metricStart, metricLength, unitStart, unitLength, attrStart, attrLength, attributesGuessed)) return (lastSeries = guess);
    const found = this.lookupSeries(metricStart, metricLength, unitStart, unitLength, attrStart, attrEnd);
    if (previous !== null) previous.follower = found;
    return (lastSeries = found);
  }

  /** Whether these byte ranges are `s`'s key; `attributesEqual`: the attributes are known to be its already (skipGuessedAttributes). */
  private isSeries(s: KnownSeries, metricStart: number, metricLength: number, unitStart: number, unitLength: number, attrStart: number, attrLength: number, attributesEqual = false): boolean {
    return s.metricLength === metricLength && s.unitLength === unitLength && s.keyLength === metricLength + unitLength + attrLength &&
      this.rangeEquals(s, metricStart, metricLength, 0) && this.rangeEquals(s, unitStart, unitLength, metricLength) &&
      (attributesEqual || this.rangeEquals(s, attrStart, attrLength, metricLength + unitLength));
  }

  /** seriesOf without the guess: by hash, decoding and remembering a label set on first sight. */
  private lookupSeries(metricStart: number, metricLength: number, unitStart: number, unitLength: number, attrStart: number, attrEnd: number): KnownSeries {
    const attrLength = attrEnd - attrStart;
    let h = 0x811c9dc5 ^ metricLength ^ (unitLength << 16);
    h = hashBytes(h, this.src, metricStart, metricStart + metricLength);
    h = hashBytes(h, this.src, unitStart, unitStart + unitLength);
    h = smallKey(hashBytes(h, this.src, attrStart, attrEnd));
    for (let s = known.get(h) ?? null; s !== null; s = s.next) {
      if (this.isSeries(s, metricStart, metricLength, unitStart, unitLength, attrStart, attrLength)) return s;
    }
    // Decoded first: labelsAt may find the set is not for the fast path after all (throws).
    const metric = this.text(metricStart, metricLength), unit = this.text(unitStart, unitLength);
    const labels = attrLength === 0 ? {} : this.labelsAt(attrStart);
    if (known.size >= MAX_KNOWN) forgetKnownSeries();
    const keyStart = keys.append(this.src, metricStart, metricStart + metricLength);
    keys.append(this.src, unitStart, unitStart + unitLength);
    keys.append(this.src, attrStart, attrEnd);
    const series: KnownSeries = {
      keyStart, keyLength: metricLength + unitLength + attrLength, metricLength, unitLength, header: seriesHeader(metric, unit, labels),
      batch: 0, group: 0, next: known.get(h) ?? null, follower: null,
    };
    known.set(h, series);
    return series;
  }

  /** Whether `length` bytes at `start` equal the known key's bytes at `keyOffset`. */
  private rangeEquals(known: KnownSeries, start: number, length: number, keyOffset: number): boolean {
    return keys.equals(known.keyStart + keyOffset, this.src, this.view, start, length);
  }

  // ---- values ----

  /** An id's code in the batch dictionary; the previous event's id is recognised by its bytes, without a string. */
  private id(last: LastId): number {
    const start = this.string();
    const length = this.strLength;
    if (length === 0) throw NOT_FAST;
    if (last.length === length && last.start >= 0 && this.sameBytes(last.start, start, length)) {
      last.start = start;
      return last.code;
    }
    last.start = start;
    last.length = length;
    last.code = this.ids!.code(this.text(start, length));
    return last.code;
  }

  private timestampMicros(): number {
    const b = this.src[this.pos];
    if (b === undefined) throw NOT_FAST;
    try {
      if (isStringHeader(b)) return parseIsoTimestamp(this.text(this.string(), this.strLength));
      if (b === 0xd6 || b === 0xd7 || b === 0xc7) return msgpackTimestampToMicros(this.timestampExtension());
      if (b === 0xcf || b === 0xd3) return epochMillisToMicros(this.int64(b === 0xd3));
      return Math.round(epochMillisToMicros(this.number()));
    } catch (error) {
      if (error instanceof NotFast) throw error;
      throw NOT_FAST;
    }
  }

  /** The payload of a msgpack timestamp extension (type -1): fixext 4, fixext 8 or ext 8 of 12 bytes. */
  private timestampExtension(): Uint8Array {
    const b = this.byte();
    const length = b === 0xd6 ? 4 : b === 0xd7 ? 8 : this.byte();
    if (this.byte() !== 0xff) throw NOT_FAST;
    const start = this.pos;
    this.skip(length);
    return this.src.subarray(start, start + length);
  }

  // ---- structure ----

  /** The event field named by the key at position `f` of an event's map: the last event's when the bytes match, else looked up. */
  private eventField(f: number): number {
    const order = this.fieldOrder;
    const expected = f < order.length ? order[f]! : NO_FIELD;
    if (expected !== NO_FIELD && this.keyAt(EVENT_KEYS[expected]!)) return 1 << expected;
    const field = this.fieldName();
    if (f < order.length) order[f] = 31 - Math.clz32(field);
    return field;
  }

  /** Whether `key` is next; if so, steps over it. */
  private keyAt(key: EventKey): boolean {
    const at = this.pos;
    if (at + key.length > this.src.length) return false;
    const words = key.words;
    const offsets = key.offsets;
    for (let w = 0; w < words.length; w++) if (this.view.getInt32(at + offsets[w]!) !== words[w]) return false;
    this.pos = at + key.length;
    return true;
  }

  /** Which event field a key names: picked by length and first byte, then compared whole. */
  private fieldName(): number {
    const start = this.string();
    const length = this.strLength;
    const candidate = length < EVENT_FIELD_BY_LENGTH.length ? EVENT_FIELD_BY_LENGTH[length] : undefined;
    if (candidate) {
      for (let i = 0; i < candidate.length; i++) {
        const [name, field] = candidate[i]!;
        if (name[0] === this.src[start] && this.bytesEqual(start, length, name)) return field;
      }
    }
    throw NOT_FAST;
  }
}

/** Forgets the label sets seen so far (for tests, and when MAX_KNOWN are known). */
export function forgetKnownSeries(): void {
  known.clear();
  lastSeries = null;
  keys.clear();
}
