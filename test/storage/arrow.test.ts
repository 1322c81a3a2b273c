import fc from 'fast-check';
import { makeVector, tableFromIPC, tableToIPC, Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { dictionaryData, utf8Data } from '../../src/storage/arrow.ts';

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('', 'trace-1', 'é', '💡', 'a\u0000b'));

describe('Arrow string columns', () => {
  it('utf8Data holds every string (ASCII, multi-byte, lone surrogates as U+FFFD) and null, and survives IPC', () => {
    fc.assert(fc.property(fc.array(fc.option(text, { nil: null }), { maxLength: 60 }), (values) => {
      const vector = makeVector(utf8Data(values));
      const expected = values.map((v) => (v === null ? null : new TextDecoder().decode(new TextEncoder().encode(v))));
      expect(Array.from({ length: vector.length }, (_, i) => vector.get(i))).toEqual(expected);
      const back = tableFromIPC(tableToIPC(new Table({ s: vector })));
      expect(Array.from({ length: back.numRows }, (_, i) => back.getChild('s')!.get(i))).toEqual(expected);
    }), { numRuns: 300 });
  });

  it('dictionaryData reads code 0 as null and code k as values[k]; columns over the same values share one dictionary', () => {
    const values = ['', 'trace-a', 'span-é', 'x'.repeat(300)];
    const codes = Uint32Array.of(0, 1, 2, 3, 1, 0);
    const trace = makeVector(dictionaryData(codes, values));
    const span = makeVector(dictionaryData(Uint32Array.of(3), values));
    expect(Array.from({ length: trace.length }, (_, i) => trace.get(i))).toEqual([null, 'trace-a', 'span-é', 'x'.repeat(300), 'trace-a', null]);
    expect(span.get(0)).toBe('x'.repeat(300));
    expect(span.data[0]!.dictionary).toBe(trace.data[0]!.dictionary);
  });
});
