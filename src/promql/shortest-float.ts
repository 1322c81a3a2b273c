/**
 * The shortest round-trip digits of a double, written as ASCII bytes: what String(v)
 * prints for 1e-6 <= |v| < 1e16 (plain notation), without creating a string. Printing
 * sample values is most of the cost of a large query answer, and V8's number-to-string
 * allocates a string per value that is then copied byte by byte.
 *
 * String(v) picks the fewest significant digits s such that s × 10^e rounds back to v
 * (round-half-even), and of those the closest to v (an even s on a tie). Here:
 *
 * - up to 15 digits: the 15-digit rounding of v, m15 = round(v × 10^p), is the only
 *   15-digit decimal that can round back to v (doubles hold 15 decimal digits), and
 *   whether it does is exact to test: m15 < 2^53 and 10^p (p <= 22) are exact doubles, so
 *   m15 / 10^p is correctly rounded (Clinger's fast path). Its trailing zeros dropped,
 *   it is the answer;
 * - else 16 or 17 digits: X = v × 10^k (k chosen so that X has 17 integer digits) is
 *   computed exactly as xh + xl (Dekker's product), and so is the half-ulp D around it;
 *   the answer is the multiple of 10 (16 digits), else the integer (17 digits), in
 *   [X - D, X + D] closest to X.
 *
 * Whenever a comparison comes too close to call in double arithmetic (ties, interval
 * ends), or v is out of that range or a power of two (uneven interval), the caller falls
 * back to String(v): writeShortest returns -1. A property test checks it against String.
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

/** The digits of `v` (sign included) at out[at…]; returns the new end, or -1 when String(v) must do it. */
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

  // ---- up to 15 digits ----
  let p = 14 - e10;
  if (p >= 0 && p <= 22) {
    const m = Math.round(x * POW10[p]);
    if (m >= 1e14 && m < 1e15 && m / POW10[p] === x) {
      const hi = high8(m);
      return writeDigits(out, at, hi, m - hi * 1e8, 15, e10 + 1);
    }
  }

  // ---- 16 or 17 digits ----
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
  // A multiple of 100 in the interval means 15 digits would do: the fast path above missed it.
  const r100 = (lo | 0) % 100;
  if (countMultiples(r100, 100, 0.01, xl, D) !== 0) return -1;
  const tens = countMultiples(r10, 10, 0.1, xl, D);
  if (tens < 0) return -1;
  let d: number;
  let digits: number;
  if (tens > 0) {
    // The multiple of 10 closest to X: offsets -r10 + 10u.
    const u = Math.round((xl + r10) / 10);
    const dist = Math.abs(-r10 + 10 * u - xl);
    if (Math.abs(dist - 5) < MARGIN) return -1;
    d = -r10 + 10 * u;
    if (!inside(d, xl, D, inclusive)) return -1;
    digits = 16;
  } else {
    const frac = xl - Math.floor(xl);
    if (Math.abs(frac - 0.5) < MARGIN) return -1;
    d = Math.round(xl);
    if (!inside(d, xl, D, inclusive)) return -1;
    digits = 17;
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
  if (digits === 16) {
    // Drop the last digit (a zero): lo is a multiple of 10.
    // (No % on doubles here: V8 calls fmod for it.)
    const h10 = Math.floor(h / 10);
    return writeDigits(out, at, h10, lo / 10 + (h - h10 * 10) * 1e7, 16, e10 + 1);
  }
  return writeDigits(out, at, h, lo, 17, e10 + 1);
}

/**
 * floor(m / 1e8) of a whole number m < 1e17, exactly (the quotient's rounding may land it
 * one off: corrected, so that m - high8(m)·1e8, which is exact, is in [0, 1e8)).
 */
function high8(m: number): number {
  const hi = Math.floor(m / 1e8);
  const lo = m - hi * 1e8;
  return lo < 0 ? hi - 1 : lo >= 1e8 ? hi + 1 : hi;
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
  if (Math.abs(lowU - Math.round(lowU)) * m < MARGIN || Math.abs(highU - Math.round(highU)) * m < MARGIN) return -1;
  return b >= a ? b - a + 1 : 0;
}

/**
 * Writes the decimal hi·1e8 + lo (`count` significant digits, hi holding the first
 * count - 8) with trailing zeros dropped, its point after `intDigits` digits (<= 0: a
 * leading "0." and zeros), in plain notation as String does.
 */
function writeDigits(out: Uint8Array, at: number, hi: number, lo: number, count: number, intDigits: number): number {
  // hi (< 1e9) as 9 digits, then lo (< 1e8) as 8: the number's digits start at 17 - count.
  const d = scratch;
  const top = Math.floor(hi / 1e8);
  d[0] = top;
  eightDigits(d, 1, hi - top * 1e8);
  eightDigits(d, 9, lo);
  const first = 17 - count;
  let last = 17;
  while (last > first + 1 && d[last - 1] === 0) last--;
  if (intDigits <= 0) {
    out[at++] = 0x30;
    out[at++] = 0x2e;
    for (let i = intDigits; i < 0; i++) out[at++] = 0x30;
    for (let i = first; i < last; i++) out[at++] = 0x30 + d[i];
    return at;
  }
  const point = first + intDigits;
  if (point >= last) {
    for (let i = first; i < last; i++) out[at++] = 0x30 + d[i];
    for (let i = last; i < point; i++) out[at++] = 0x30;
    return at;
  }
  for (let i = first; i < point; i++) out[at++] = 0x30 + d[i];
  out[at++] = 0x2e;
  for (let i = point; i < last; i++) out[at++] = 0x30 + d[i];
  return at;
}

/**
 * The 8 decimal digits of n (an integer in [0, 1e8)) at d[at…]: split in halves and
 * quarters (short dependency chains; each floor of an exact quotient is exact here).
 */
function eightDigits(d: Uint8Array, at: number, n: number): void {
  const a = Math.floor(n / 10000);
  const b = n - a * 10000;
  const a1 = Math.floor(a / 100);
  const a2 = a - a1 * 100;
  const b1 = Math.floor(b / 100);
  const b2 = b - b1 * 100;
  d[at] = TENS[a1];
  d[at + 1] = a1 - TENS[a1] * 10;
  d[at + 2] = TENS[a2];
  d[at + 3] = a2 - TENS[a2] * 10;
  d[at + 4] = TENS[b1];
  d[at + 5] = b1 - TENS[b1] * 10;
  d[at + 6] = TENS[b2];
  d[at + 7] = b2 - TENS[b2] * 10;
}

/** The tens digit of 0..99. */
const TENS = Uint8Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));

const scratch = new Uint8Array(17);

/**
 * writeShortest with a small direct-mapped cache of recent values' bytes: answers often
 * repeat values (a rate over regular scrapes is an integer increase times one factor),
 * and copying their bytes is cheaper than working them out again.
 */
export function writeShortestCached(out: Uint8Array, at: number, v: number): number {
  bits[0] = v;
  const slot = ((words[0] ^ words[1]) * 0x9e3779b1) >>> (32 - CACHE_BITS);
  const base = slot * CACHE_WIDTH;
  if (cachedValues[slot] === v && cacheBytes[base] !== 0) {
    const n = cacheBytes[base];
    for (let i = 1; i <= n; i++) out[at++] = cacheBytes[base + i];
    return at;
  }
  const end = writeShortest(out, at, v);
  if (end < 0 || end - at >= CACHE_WIDTH) return end;
  cachedValues[slot] = v;
  cacheBytes[base] = end - at;
  for (let i = at; i < end; i++) cacheBytes[base + 1 + i - at] = out[i];
  return end;
}

const CACHE_BITS = 12;
/** A length byte and up to 31 bytes of digits per slot. */
const CACHE_WIDTH = 32;
const cachedValues = new Float64Array(1 << CACHE_BITS);
const cacheBytes = new Uint8Array((1 << CACHE_BITS) * CACHE_WIDTH);

