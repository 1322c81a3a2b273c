/**
 * The shortest round-trip digits of a double, written as ASCII bytes: what String(v)
 * prints for 1e-6 <= |v| < 1e16 (plain notation), without creating a string. Printing
 * sample values is most of the cost of a large query answer, and V8's number-to-string
 * allocates a string per value that is then copied byte by byte.
 *
 * String(v) picks the fewest significant digits s such that s × 10^e rounds back to v
 * (round-half-even), and of those the closest to v (an even s on a tie). Here X = v × 10^k
 * (k chosen so that X has 17 integer digits) is computed exactly as xh + xl (Dekker's
 * product), and so is the half-ulp D around it (D < 12: the interval [X - D, X + D] holds
 * at most one multiple of 100). The answer is
 *
 * - that multiple of 100, when there is one: 15 digits or fewer (its trailing zeros
 *   dropped; it is the only decimal that short in the interval);
 * - else the multiple of 10 closest to X (16 digits), when there is one;
 * - else the integer closest to X (17 digits).
 *
 * Most values of a large answer have 16 or 17 digits (ratios, rates): they are found
 * without a division, and their digits are printed two at a time with integer arithmetic.
 *
 * Whenever a comparison comes too close to call in double arithmetic (ties, interval
 * ends), or v is out of that range or a power of two (uneven interval), the caller falls
 * back to String(v): writeShortest returns -1. Property tests check it against String and
 * Go's strconv (gostrconv.ts).
 */

const POW10: number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** 10^i at index i + 8, for i in -8..17 (the negative ones rounded: only for estimates). */
const POW10_FROM_MINUS_8: number[] = Array.from({ length: 26 }, (_, i) => Number(`1e${i - 8}`));
const SPLITTER = 134217729; // 2^27 + 1
const MARGIN = 1e-6;

/** 2^(e - 1076) for the biased exponents e of [1e-6, 1e17): half an ulp. */
const MIN_EXPONENT = 1000;
const HALF_ULP: number[] = Array.from({ length: 90 }, (_, i) => 2 ** (MIN_EXPONENT + i - 1076));

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** Little-endian hosts keep the sign/exponent word second. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * The digits of `v` (sign included) at out[at…]; returns the new end, or -1 when String(v)
 * must do it. Needs 25 bytes of room at `at` (it may write past the end it returns).
 */
export function writeShortest(out: Uint8Array, at: number, v: number): number {
  let x = v;
  if (x < 0) {
    x = -x;
    out[at++] = 0x2d;
  }
  if (!(x >= 1e-6 && x < 1e16)) return -1;
  bits[0] = x;
  const hiWord = words[HI];
  const loWord = words[1 - HI];
  const exponent = (hiWord >>> 20) & 0x7ff;
  // A power of two has a narrower interval below it than above: left to String.
  if ((hiWord & 0xfffff) === 0 && loWord === 0) return -1;
  // floor(log10 x), estimated from the binary exponent (off by one at most: checked below).
  let e10 = Math.floor((exponent - 1023) * 0.3010299956639812);
  if (x >= POW10_FROM_MINUS_8[e10 + 9]) e10++;

  let k = 16 - e10;
  if (k < 0 || k > 22) return -1;
  let P = POW10[k];
  let xh = x * P;
  if (xh < 1e16) {
    if (++k > 22) return -1;
    e10--;
    P = POW10[k];
    xh = x * P;
  } else if (xh >= 1e17) {
    if (--k < 0) return -1;
    e10++;
    P = POW10[k];
    xh = x * P;
  }
  if (!(xh >= 1e16 && xh < 1e17)) return -1;
  // Dekker: x × P = xh + xl exactly (P has at most 53 bits; no under/overflow here).
  let t = SPLITTER * x;
  const xHi = t - (t - x);
  const xLo = x - xHi;
  t = SPLITTER * P;
  const pHi = t - (t - P);
  const pLo = P - pHi;
  const xl = xHi * pHi - xh + xHi * pLo + xLo * pHi + xLo * pLo;
  // Half an ulp of x, 2^(exponent - 1076), times P (exact).
  const D = HALF_ULP[exponent - MIN_EXPONENT] * P;
  // Endpoints round back to x only when its significand is even.
  const inclusive = (loWord & 1) === 0;

  // xh is an even integer (its ulp is 2..16); X = xh + xl, |xl| <= 8.
  // xh = hi·1e8 + lo exactly (hi·1e8 is exact: hi < 2^30), lo in [0, 1e8).
  const hi = high8(xh);
  let lo = xh - hi * 1e8;
  // Candidate offsets d (integers) from xh: N = xh + d in [xl - D, xl + D]. (lo < 2^31: int32 remainders.)
  const r10 = (lo | 0) % 10;
  const r100 = (lo | 0) % 100;
  const hundreds = countMultiples(r100, 100, 0.01, xl, D);
  if (hundreds < 0) return -1;
  let d: number;
  const tens = hundreds > 0 ? 0 : countMultiples(r10, 10, 0.1, xl, D);
  if (tens < 0) return -1;
  if (hundreds > 0) {
    // The only multiple of 100 in the interval (counted strictly inside it, margin and all).
    d = -r100 + 100 * Math.ceil((xl - D + r100) * 0.01);
  } else if (tens > 0) {
    // The multiple of 10 closest to X: offsets -r10 + 10u.
    const u = nearest((xl + r10) * 0.1);
    const dist = Math.abs(-r10 + 10 * u - xl);
    if (Math.abs(dist - 5) < MARGIN) return -1;
    d = -r10 + 10 * u;
    if (!inside(d, xl, D, inclusive)) return -1;
  } else {
    const frac = xl - Math.floor(xl);
    if (Math.abs(frac - 0.5) < MARGIN) return -1;
    d = nearest(xl);
    if (!inside(d, xl, D, inclusive)) return -1;
  }
  lo += d;
  let h = hi;
  if (lo >= 1e8) {
    lo -= 1e8;
    h++;
  } else if (lo < 0) {
    lo += 1e8;
    h--;
  }
  // N = h × 1e8 + lo has 17 digits (rounding may have crossed 10^16 or 10^17: left to String).
  if (h >= 1e9 || h < 1e8) return -1;
  // Its trailing zeros are dropped when printing: 15 digits or fewer, 16, or 17 as chosen.
  return writeDigits(out, at, h, lo, e10 + 1);
}

/**
 * floor(m / 1e8) of a whole number m < 1e17, exactly (the estimate may land one off:
 * corrected, so that m - high8(m)·1e8, which is exact, is in [0, 1e8)).
 */
function high8(m: number): number {
  // × 1e-8 (inexact, but within an ulp of the quotient): cheaper than a division.
  const hi = Math.floor(m * 1e-8);
  const lo = m - hi * 1e8;
  return lo < 0 ? hi - 1 : lo >= 1e8 ? hi + 1 : hi;
}

/**
 * The integer nearest y (|y| small). Not Math.round, which V8 runs several times slower than
 * Math.floor (measured 8-9 ns against 1-2 here): floor(y + 0.5) differs from it only within
 * an ulp of a tie (y + 0.5 rounding up), and every caller has already declined (-1) when y
 * is that close to a tie.
 */
function nearest(y: number): number {
  return Math.floor(y + 0.5);
}

/** Whether offset d is in [xl - D, xl + D] (open unless inclusive), with a margin; false when too close. */
function inside(d: number, xl: number, D: number, inclusive: boolean): boolean {
  const gap = D - Math.abs(d - xl);
  if (Math.abs(gap) < MARGIN) return false;
  return gap > 0 || (inclusive && gap === 0);
}

/**
 * How many offsets ≡ -r (mod m) lie in [xl - D, xl + D]: 0 or more; -1 when an end is too
 * close to a candidate to tell (only then does it matter whether the ends are included).
 */
function countMultiples(r: number, m: number, inverse: number, xl: number, D: number): number {
  // Candidates -r + m·u; u from ceil((xl - D + r)/m) to floor((xl + D + r)/m) (multiplying
  // by 1/m is off by an ulp at most: within the margin).
  const lowU = (xl - D + r) * inverse;
  const highU = (xl + D + r) * inverse;
  const a = Math.ceil(lowU);
  const b = Math.floor(highU);
  // An interval end within the margin of a candidate: inclusivity and rounding matter.
  if (Math.abs(lowU - nearest(lowU)) * m < MARGIN || Math.abs(highU - nearest(highU)) * m < MARGIN) return -1;
  return b >= a ? b - a + 1 : 0;
}

/**
 * Writes the 17-digit decimal hi·1e8 + lo (hi in [1e8, 1e9), lo in [0, 1e8), whole
 * numbers) with its trailing zeros dropped, its point after `intDigits` digits (<= 0: a
 * leading "0." and zeros), in plain notation as String does. The digits go straight to
 * `out`, one byte to the right of their place when there is a point among them; then the
 * integer digits (usually a few) move left and the point goes in after them.
 */
function writeDigits(out: Uint8Array, at: number, hi: number, lo: number, intDigits: number): number {
  if (intDigits <= 0) {
    out[at++] = 0x30;
    out[at++] = 0x2e;
    for (let i = intDigits; i < 0; i++) out[at++] = 0x30;
    return dropZeros(out, at, seventeenDigits(out, at, hi, lo));
  }
  const from = at + 1;
  const end = dropZeros(out, from, seventeenDigits(out, from, hi, lo));
  for (let i = 0; i < intDigits; i++) out[at + i] = out[from + i];
  // Nothing after the point: an integer (its zeros up to the point stay).
  if (end - from <= intDigits) return at + intDigits;
  out[at + intDigits] = 0x2e;
  return end;
}

/** The digits of hi·1e8 + lo at out[at…] as ASCII; returns their end. */
function seventeenDigits(out: Uint8Array, at: number, hi: number, lo: number): number {
  // Int32 arithmetic (both halves are below 2^31): V8 divides by a constant with a multiply.
  const h = hi | 0;
  const top = (h / 100_000_000) | 0;
  out[at] = 0x30 + top;
  eightDigits(out, at + 1, h - top * 100_000_000);
  eightDigits(out, at + 9, lo | 0);
  return at + 17;
}

/** The end of the digits out[from…end) without their trailing zeros (the first digit is not one). */
function dropZeros(out: Uint8Array, from: number, end: number): number {
  while (end > from + 1 && out[end - 1] === 0x30) end--;
  return end;
}

/** The 8 decimal digits of n (an int32 in [0, 1e8)) as ASCII at d[at…], two at a time. */
function eightDigits(d: Uint8Array, at: number, n: number): void {
  const a = (n / 10000) | 0;
  const b = n - a * 10000;
  const a1 = (a / 100) | 0;
  const a2 = a - a1 * 100;
  const b1 = (b / 100) | 0;
  const b2 = b - b1 * 100;
  d[at] = PAIRS[2 * a1];
  d[at + 1] = PAIRS[2 * a1 + 1];
  d[at + 2] = PAIRS[2 * a2];
  d[at + 3] = PAIRS[2 * a2 + 1];
  d[at + 4] = PAIRS[2 * b1];
  d[at + 5] = PAIRS[2 * b1 + 1];
  d[at + 6] = PAIRS[2 * b2];
  d[at + 7] = PAIRS[2 * b2 + 1];
}

/** "00" to "99" as ASCII: 0..99 at 2i, 2i + 1. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/**
 * writeShortest with a small direct-mapped cache of recent values' bytes: answers often
 * repeat values (a rate over regular scrapes is an integer increase times one factor),
 * and copying their bytes is cheaper than working them out again. With `view` (a DataView
 * of `out`'s bytes) a hit is copied four bytes at a time.
 */
export function writeShortestCached(out: Uint8Array, at: number, v: number, view: DataView | null = null): number {
  bits[0] = v;
  const slot = Math.imul(words[0] ^ words[1], 0x9e3779b1) >>> (32 - CACHE_BITS);
  const n = cacheLengths[slot];
  if (cachedValues[slot] === v && n !== 0) {
    hits++;
    const base = slot * CACHE_WIDTH;
    let i = 0;
    if (view !== null) {
      // Four bytes at a time (unaligned stores, the host's byte order keeps the bytes as they are).
      for (; i + 4 <= n; i += 4) view.setUint32(at + i, cacheWords[(base + i) >> 2], LITTLE_ENDIAN);
    }
    for (; i < n; i++) out[at + i] = cacheBytes[base + i];
    return at + n;
  }
  const end = writeShortest(out, at, v);
  if (end < 0 || end - at > CACHE_WIDTH) return end;
  cachedValues[slot] = v;
  cacheLengths[slot] = end - at;
  const base = slot * CACHE_WIDTH;
  for (let i = at; i < end; i++) cacheBytes[base + i - at] = out[i];
  return end;
}

let hits = 0;

/** How many values writeShortestCached found in its cache so far (a running count). */
export function cacheHits(): number {
  return hits;
}

const CACHE_BITS = 12;
/** Up to 32 bytes of digits per slot, and their length (0: empty). */
const CACHE_WIDTH = 32;
const cachedValues = new Float64Array(1 << CACHE_BITS);
const cacheLengths = new Uint8Array(1 << CACHE_BITS);
const cacheWords = new Uint32Array(((1 << CACHE_BITS) * CACHE_WIDTH) / 4);
const cacheBytes = new Uint8Array(cacheWords.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

