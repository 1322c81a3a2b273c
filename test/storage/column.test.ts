import { describe, expect, it } from 'vitest';
import { StringDictionary, f64Column, u32Column } from '../../src/storage/column.ts';

describe('GrowableColumn', () => {
  it('grows past its capacity and keeps every value', () => {
    const c = f64Column(16);
    for (let i = 0; i < 10_000; i++) c.push(i * 1.5);
    expect(c.length).toBe(10_000);
    expect(c.view()[9_999]).toBe(9_999 * 1.5);
    expect(c.view().length).toBe(10_000);
  });

  it('bulk-appends typed and plain arrays after existing rows', () => {
    const c = u32Column(16);
    c.push(7);
    c.pushAll(new Uint32Array([1, 2, 3]));
    c.pushAll([4, 5]);
    c.fill(9, 2);
    expect([...c.view()]).toEqual([7, 1, 2, 3, 4, 5, 9, 9]);
  });

  it('snapshot owns its buffer: later appends do not change it', () => {
    const c = f64Column(16);
    c.pushAll([1, 2, 3]);
    const snap = c.snapshot();
    c.clear();
    c.pushAll([9, 9, 9]);
    expect([...snap]).toEqual([1, 2, 3]);
    expect(snap.buffer.byteLength).toBe(3 * 8);
  });
});

describe('StringDictionary', () => {
  it('gives dense stable codes from 1 and reserves 0 for absent', () => {
    const d = new StringDictionary();
    expect(d.encode('a')).toBe(1);
    expect(d.encode('b')).toBe(2);
    expect(d.encode('a')).toBe(1);
    expect(d.decode(2)).toBe('b');
    expect(d.decode(0)).toBeUndefined();
    expect(d.lookup('zz')).toBe(-1);
    expect(d.size).toBe(3);
  });
});
