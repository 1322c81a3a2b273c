/**
 * Zero-copy Arrow construction: sealed columns become Arrow `Data` that point at the
 * very typed arrays the head filled, so sealing copies nothing per row.
 */
import {
  Data, Dictionary, Field, Float64, makeData, makeVector, RecordBatch, Schema, Struct, Uint16, Uint32, Uint8, Utf8,
  type DataType, type Vector,
} from 'apache-arrow';

export interface ArrowColumn {
  name: string;
  data: Data;
  nullable?: boolean;
}

export function float64Data(values: Float64Array): Data<Float64> {
  return makeData({ type: new Float64(), length: values.length, data: values });
}

export function uint32Data(values: Uint32Array): Data<Uint32> {
  return makeData({ type: new Uint32(), length: values.length, data: values });
}

export function uint8Data(values: Uint8Array): Data<Uint8> {
  return makeData({ type: new Uint8(), length: values.length, data: values });
}

let nextDictionaryId = 0;

/**
 * Dictionary-encoded strings from codes into `values`; code 0 means absent, so the
 * dictionary's entry 0 is null and Arrow readers see a null there.
 */
export function dictionaryData(codes: Uint32Array, values: readonly string[]): Data<Dictionary<Utf8, Uint32>> {
  let dictionary = dictionaries.get(values);
  if (dictionary === undefined) {
    dictionary = makeVector(utf8Strings(values, true));
    dictionaries.set(values, dictionary);
  }
  const type = new Dictionary(new Utf8(), new Uint32(), nextDictionaryId++);
  return makeData({ type, length: codes.length, data: codes, dictionary });
}

/** Dictionaries built, by their strings: a segment's trace and span ids share one. */
const dictionaries = new WeakMap<readonly string[], Vector<Utf8>>();

/**
 * Integer ids stored as small per-row indices into a dictionary of the distinct ids
 * (2 bytes a row while a segment holds at most 65,536 of them).
 */
export function idDictionaryData(indices: Uint16Array | Uint32Array, ids: Uint32Array): Data {
  const indexType = indices instanceof Uint16Array ? new Uint16() : new Uint32();
  const type = new Dictionary(new Uint32(), indexType, nextDictionaryId++);
  return makeData({ type, length: indices.length, data: indices, dictionary: makeVector(ids) } as never);
}

/** Plain UTF-8 strings (e.g. JSON attribute blobs, mostly unique): one copy into Arrow's buffers. */
export function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  return utf8Strings(values, false);
}

const encoder = new TextEncoder();

/** Strings as Arrow keeps them: string i is bytes[offsets[i], offsets[i + 1]). */
export interface Utf8Buffers {
  offsets: Int32Array;
  bytes: Uint8Array;
}

export function utf8BuffersOf(data: Data<Utf8>): Utf8Buffers {
  return { offsets: data.valueOffsets, bytes: data.values };
}

export function utf8Buffers(values: readonly string[]): Utf8Buffers {
  return utf8BuffersOf(utf8Strings(values, false));
}

/**
 * Strings as Arrow Utf8 data, built by hand in one pass: their UTF-8 bytes end to end and the
 * offsets (Arrow's builder costs a chain of calls and a re-encode per value). ASCII, the usual
 * case for ids and JSON, is copied a char at a time; anything else goes through TextEncoder.
 * `nullFirst`: entry 0 is null whatever it holds (a dictionary whose code 0 means absent).
 */
function utf8Strings(values: readonly (string | null)[], nullFirst: boolean): Data<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let chars = 0;
  for (let i = 0; i < n; i++) chars += values[i]?.length ?? 0;
  let bytes = new Uint8Array(chars + 16);
  let validity: Uint8Array | null = null;
  let nullCount = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined || (nullFirst && i === 0)) {
      validity ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      validity[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
      offsets[i + 1] = at;
      continue;
    }
    if (at + v.length * 3 > bytes.length) bytes = grown(bytes, at + v.length * 3);
    let j = 0;
    for (; j < v.length; j++) {
      const c = v.charCodeAt(j);
      if (c >= 0x80) break;
      bytes[at + j] = c;
    }
    at += j < v.length ? encoder.encodeInto(v, bytes.subarray(at)).written : j;
    offsets[i + 1] = at;
  }
  return makeData({ type: new Utf8(), length: n, nullCount, nullBitmap: validity ?? undefined, valueOffsets: offsets, data: bytes.subarray(0, at) });
}

function grown(bytes: Uint8Array, min: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.max(min, bytes.length * 2));
  next.set(bytes);
  return next;
}

export function recordBatch(columns: ArrowColumn[], metadata: Record<string, string> = {}): RecordBatch {
  const fields = columns.map((c) => new Field(c.name, c.data.type as DataType, c.nullable ?? false));
  const length = columns.length ? columns[0].data.length : 0;
  const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children: columns.map((c) => c.data) });
  return new RecordBatch(new Schema(fields, new Map(Object.entries(metadata))), struct);
}
