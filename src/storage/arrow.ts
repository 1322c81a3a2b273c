/**
 * Zero-copy Arrow construction: sealed columns become Arrow `Data` that point at the
 * very typed arrays the head filled, so sealing copies nothing per row.
 */
import {
  Data, Dictionary, Field, Float64, makeData, makeVector, RecordBatch, Schema, Struct, Uint16, Uint32, Uint8, Utf8,
  vectorFromArray, type DataType,
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
  const dictionary = vectorFromArray([null, ...values.slice(1)], new Utf8());
  const type = new Dictionary(new Utf8(), new Uint32(), nextDictionaryId++);
  return makeData({ type, length: codes.length, data: codes, dictionary });
}

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
  return vectorFromArray(values as (string | null)[], new Utf8()).data[0];
}

export function recordBatch(columns: ArrowColumn[], metadata: Record<string, string> = {}): RecordBatch {
  const fields = columns.map((c) => new Field(c.name, c.data.type as DataType, c.nullable ?? false));
  const length = columns.length ? columns[0].data.length : 0;
  const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children: columns.map((c) => c.data) });
  return new RecordBatch(new Schema(fields, new Map(Object.entries(metadata))), struct);
}
