import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/storage/bytes.ts';

describe('utf8Length', () => {
  it('is the length TextEncoder gives, surrogate pairs and lone surrogates included', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('\ud800', 'a\udc00b', '💡\ud83d'));
    fc.assert(fc.property(text, (s) => {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }), { numRuns: 1000 });
  });
});
