import { describe, expect, it } from 'vitest';
import { HeadArrays } from '../../src/storage/head-arrays.ts';

describe('HeadArrays', () => {
  it('hands out zeroed arrays of the asked capacity, side by side in one buffer', () => {
    const arrays = new HeadArrays();
    const a = arrays.f64(32), b = arrays.u32(64);
    expect(a).toBeInstanceOf(Float64Array);
    expect(b).toBeInstanceOf(Uint32Array);
    expect([a.length, b.length]).toEqual([32, 64]);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.byteLength);
    expect(a.every((x) => x === 0) && b.every((x) => x === 0)).toBe(true);
    expect(arrays.bytesInUse).toBe(256 + 256);
  });

  it('hands a given-back array out again for its type and capacity (ids zeroed), never to two holders at once', () => {
    const arrays = new HeadArrays();
    const a = arrays.f64(32);
    const keep = arrays.f64(32);
    const ids = arrays.u32(32);
    a.fill(7);
    keep.fill(9);
    ids.fill(5);
    arrays.give(a);
    arrays.give(ids);
    expect(arrays.u32(64)).not.toBe(ids); // another capacity: a fresh one
    expect(arrays.f64(64).buffer).toBe(a.buffer);
    expect(arrays.f64(32)).toBe(a);
    const again = arrays.u32(32);
    expect(again).toBe(ids);
    expect(again.every((x) => x === 0)).toBe(true);
    const fresh = arrays.f64(32); // nothing free of that size: a new block
    expect(fresh).not.toBe(a);
    expect(fresh.byteOffset).not.toBe(keep.byteOffset);
    expect(keep.every((x) => x === 9)).toBe(true);
  });

  it('gives huge arrays a buffer of their own and does not keep them', () => {
    const arrays = new HeadArrays();
    const big = arrays.f64(1 << 16);
    expect(big.buffer.byteLength).toBe(big.byteLength);
    arrays.give(big);
    expect(arrays.bytesInUse).toBe(0);
    expect(arrays.f64(1 << 16)).not.toBe(big);
  });

  it('moves to a new buffer when the current one is full', () => {
    const arrays = new HeadArrays();
    const blocks = Array.from({ length: 5 }, () => arrays.f64(1 << 15)); // 256 KiB each, 1 MiB buffers
    expect(blocks[3]!.buffer).toBe(blocks[0]!.buffer);
    expect(blocks[4]!.buffer).not.toBe(blocks[0]!.buffer);
    expect(blocks[4]!.byteOffset).toBe(0);
  });
});
