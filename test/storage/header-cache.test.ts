import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderCache, type SeriesHeader } from '../../src/storage/header-cache.ts';

const header = (i: number): SeriesHeader => ({ metric: `m${i}`, unit: undefined, labels: { i: String(i) } });
const bytesOf = (i: number) => new TextEncoder().encode(`header-${i}`);
const lookup = (cache: HeaderCache, src: Uint8Array, start: number, length: number) =>
  cache.lookup(src, new DataView(src.buffer, src.byteOffset, src.byteLength), start, length);

describe('HeaderCache', () => {
  it('finds every remembered header by its bytes, in any lookup order (the follower guess never answers wrong)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 }), (order) => {
      const cache = new HeaderCache();
      const known = new Map<number, SeriesHeader>();
      for (const i of order) {
        // The bytes sit inside a larger buffer, as a header does inside a batch.
        const own = bytesOf(i);
        const src = new Uint8Array(own.length + 7);
        src.set(own, 3);
        const found = lookup(cache, src, 3, own.length);
        if (known.has(i)) expect(found).toBe(known.get(i));
        else {
          expect(found).toBeUndefined();
          known.set(i, header(i));
          cache.remember(own, known.get(i)!);
        }
      }
    }), { numRuns: 300 });
  });

  it('tells apart headers whose bytes share a prefix or differ only in length', () => {
    const cache = new HeaderCache();
    const a = header(1), b = header(2);
    cache.remember(Uint8Array.of(1, 2, 3), a);
    cache.remember(Uint8Array.of(1, 2, 3, 4), b);
    expect(lookup(cache, Uint8Array.of(1, 2, 3), 0, 3)).toBe(a);
    expect(lookup(cache, Uint8Array.of(1, 2, 3, 4), 0, 4)).toBe(b);
    expect(lookup(cache, Uint8Array.of(1, 2, 3, 5), 0, 4)).toBeUndefined();
    expect(lookup(cache, Uint8Array.of(1, 2), 0, 2)).toBeUndefined();
  });
});
