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

  it('reuses a given-back block for the next array of its size, zeroed, and never two live arrays on one block', () => {
    const arrays = new HeadArrays();
    const a = arrays.f64(32);
    const keep = arrays.f64(32);
    a.fill(7);
    keep.fill(9);
    arrays.give(a);
    const again = arrays.u32(64); // same 256 bytes
    expect(again.buffer).toBe(a.buffer);
    expect(again.byteOffset).toBe(a.byteOffset);
    expect(again.every((x) => x === 0)).toBe(true);
    const fresh = arrays.f64(32); // nothing free of that size: a new block
    expect(fresh.byteOffset).not.toBe(a.byteOffset);
    expect(fresh.byteOffset).not.toBe(keep.byteOffset);
    expect(keep.every((x) => x === 9)).toBe(true);
  });

  it('gives huge arrays a buffer of their own and does not keep them', () => {
    const arrays = new HeadArrays();
    const big = arrays.f64(1 << 16);
    expect(big.buffer.byteLength).toBe(big.byteLength);
    arrays.give(big);
    expect(arrays.bytesInUse).toBe(0);
    expect(arrays.f64(1 << 16).buffer).not.toBe(big.buffer);
  });

  it('moves to a new buffer when the current one is full', () => {
    const arrays = new HeadArrays();
    const blocks = Array.from({ length: 5 }, () => arrays.f64(1 << 15)); // 256 KiB each, 1 MiB buffers
    expect(blocks[3]!.buffer).toBe(blocks[0]!.buffer);
    expect(blocks[4]!.buffer).not.toBe(blocks[0]!.buffer);
    expect(blocks[4]!.byteOffset).toBe(0);
  });
});
