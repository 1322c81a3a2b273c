import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyArena } from '../../src/storage/key-arena.ts';

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('KeyArena', () => {
  it('keeps appended keys back to back through growth and compares them as a byte-wise compare would (property)', () => {
    const bytes = fc.uint8Array({ maxLength: 40 });
    fc.assert(fc.property(fc.array(bytes, { minLength: 1, maxLength: 3000 }), fc.uint8Array({ maxLength: 40 }), (keys, probe) => {
      const arena = new KeyArena();
      const at = keys.map((k) => arena.append(k, 0, k.length));
      for (let i = 1; i < keys.length; i++) expect(at[i]).toBe(at[i - 1]! + keys[i - 1]!.length);
      // Each key is found whole, and inside a larger source at an odd offset.
      keys.forEach((k, i) => {
        const src = new Uint8Array(k.length + 5);
        src.set(k, 3);
        expect(arena.equals(at[i]!, src, viewOf(src), 3, k.length)).toBe(true);
        const sameLength = probe.subarray(0, k.length);
        if (sameLength.length === k.length) {
          expect(arena.equals(at[i]!, sameLength, viewOf(sameLength), 0, k.length)).toBe(Buffer.from(sameLength).equals(Buffer.from(k)));
        }
      });
    }), { numRuns: 60 });
  });

  it('sees a difference in any byte, in the words and in the tail', () => {
    const arena = new KeyArena();
    const key = Uint8Array.from({ length: 11 }, (_, i) => i + 1);
    const at = arena.append(key, 0, key.length);
    for (let i = 0; i < key.length; i++) {
      const other = key.slice();
      other[i] ^= 0x80;
      expect(arena.equals(at, other, viewOf(other), 0, key.length)).toBe(false);
    }
    arena.clear();
    expect(arena.append(key, 2, 5)).toBe(0);
  });
});
