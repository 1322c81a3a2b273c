/**
 * writeShortest (src/promql/shortest-float.ts) prints what String(v) prints, or declines
 * (-1) and leaves it to String: checked on random doubles of every kind in its range, on
 * short decimals, ratios, and the edges (powers of ten and two, interval ties).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goFormatFloat } from '../../src/promql/gostrconv.ts';
import { writeShortest, writeShortestCached } from '../../src/promql/shortest-float.ts';

const out = new Uint8Array(64);
const decoder = new TextDecoder();

/** What writeShortest prints for v, or null when it declines. */
function printed(v: number): string | null {
  const end = writeShortest(out, 3, v);
  return end < 0 ? null : decoder.decode(out.subarray(3, end));
}

function agrees(v: number): boolean {
  const p = printed(v);
  return p === null || p === String(v);
}

/** Any double whose binary exponent puts it near [1e-6, 1e16) (random significand bits). */
const nearRange = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.integer({ min: 1000, max: 1080 }), fc.boolean())
  .map(([low, high, exponent, negative]) => {
    const f = new Float64Array(1);
    const w = new Uint32Array(f.buffer);
    w[0] = low;
    w[1] = high | (exponent << 20) | (negative ? 0x80000000 : 0);
    return f[0];
  });

describe('writeShortest', () => {
  it('prints random doubles as String does', () => {
    fc.assert(fc.property(nearRange, agrees), { numRuns: 200_000 });
    fc.assert(fc.property(fc.double({ min: -1e17, max: 1e17, noNaN: true }), agrees), { numRuns: 50_000 });
  });

  it('prints short decimals, scaled integers and ratios as String does', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: 0, max: 14 }), (n, d) => agrees(n / 10 ** d)), { numRuns: 50_000 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: -12, max: 7 }), (n, e) => agrees(n * 10 ** e) && agrees(Number(`${n}e${e}`))), { numRuns: 50_000 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e4 }), (a, b) => agrees(a / b) && agrees(b / a / 1000)), { numRuns: 50_000 });
  });

  it("prints what Go's strconv.FormatFloat(v, 'f', -1, 64) prints (Prometheus' own printer)", () => {
    const agreesWithGo = (v: number) => {
      const p = printed(v);
      return p === null || p === goFormatFloat(v, 'f');
    };
    fc.assert(fc.property(nearRange, agreesWithGo), { numRuns: 20_000 });
    // Ratios of sums (16-17 digits), and short decimals (15 digits or fewer, trailing zeros dropped).
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 30 }), (a, b) => agreesWithGo(a / b) && agreesWithGo(b / a)), { numRuns: 20_000 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: -6, max: 6 }), (n, e) => agreesWithGo(Number(`${n}e${e}`))), { numRuns: 20_000 });
  });

  it('declines hardly any 16- and 17-digit values', () => {
    let declined = 0;
    for (let i = 1; i <= 10_000; i++) if (printed((i * 1234.5678) / 997 / (i + 0.3)) === null) declined++;
    expect(declined).toBeLessThan(100);
  });

  it('handles the edges of its range and of decimal lengths', () => {
    const edges: number[] = [1e-6, 1e-6 * (1 + 2 ** -52), 9.999999999999999e15, 1e16 - 2, 0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 123456789.125, 5e-7, 1e16, 1e21];
    for (let e = -6; e <= 15; e++) {
      for (const m of [1, 2, 5, 3, 7.5, 9.999999999999998, 1.0000000000000002, 9.999999999999999]) edges.push(m * 10 ** e, Number(`${m}e${e}`));
      edges.push(2 ** Math.round(e * 3.3219), 10 ** e * (1 - 2 ** -53), 10 ** e * (1 + 2 ** -52));
    }
    for (const v of edges) {
      expect(agrees(v), String(v)).toBe(true);
      expect(agrees(-v), String(-v)).toBe(true);
    }
    // Out of its range it declines.
    for (const v of [0, -0, NaN, Infinity, -Infinity, 1e-7, 1e16, 1e20, 5e-324]) expect(printed(v)).toBeNull();
  });

  it('prints most typical values itself', () => {
    let declined = 0;
    for (let i = 1; i <= 10_000; i++) if (printed((i * 0.37) / 7) === null) declined++;
    expect(declined).toBeLessThan(100);
  });

  it('prints the same through its cache, values repeating and colliding', () => {
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) values.push((i % 997) / 7, -((i % 13) * 0.1), (i * 12345.678) / 3, 1e-7 * i, 0, -0, NaN);
    // With a DataView of the output, hits are copied a word at a time (at odd offsets too).
    const view = new DataView(out.buffer);
    for (const [i, v] of values.entries()) {
      const at = 5 + (i % 4);
      const end = writeShortestCached(out, at, v, i % 2 ? view : null);
      if (end >= 0) expect(decoder.decode(out.subarray(at, end)), String(v)).toBe(String(v));
    }
  });
});

