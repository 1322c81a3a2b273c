/**
 * The few pieces of Go's strconv that PromQL's observable behaviour depends on: how
 * numbers and strings are read from a query and a `le` label, and how sample values
 * are printed. Written from the Go documentation so results match Prometheus exactly.
 */

/** strconv.ParseFloat(s, 64); undefined where Go returns an error. */
export function goParseFloat(s: string): number | undefined {
  const special = parseSpecialFloat(s);
  if (special !== undefined) return special;
  if (s.includes('_') && !underscoreOK(s)) return undefined;
  const clean = (x: string) => x.replaceAll('_', '');
  const hex = /^([+-]?)0[xX]([0-9a-fA-F_]*\.?[0-9a-fA-F_]*)[pP]([+-]?[0-9_]+)$/.exec(s);
  if (hex) {
    // Hexadecimal floats need a binary exponent, as in Go literals.
    const digits = clean(hex[2]);
    if (!/[0-9a-fA-F]/.test(digits)) return undefined;
    const v = parseHexMantissa(digits) * 2 ** Number(clean(hex[3]));
    return hex[1] === '-' ? -v : v;
  }
  const dec = /^([+-]?)([0-9_]*\.?[0-9_]*)([eE][+-]?[0-9_]+)?$/.exec(s);
  if (!dec || !/[0-9]/.test(dec[2])) return undefined;
  const v = Number(dec[1] + clean(dec[2]) + clean(dec[3] ?? ''));
  // Go reports overflow to ±Inf as ErrRange.
  return Number.isFinite(v) ? v : undefined;
}

function parseSpecialFloat(s: string): number | undefined {
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  const body = lower.startsWith('+') || lower.startsWith('-') ? lower.slice(1) : lower;
  if (body === 'inf' || body === 'infinity') return lower.startsWith('-') ? -Infinity : Infinity;
  return undefined;
}

function parseHexMantissa(digits: string): number {
  const dot = digits.indexOf('.');
  const intPart = dot < 0 ? digits : digits.slice(0, dot);
  const fracPart = dot < 0 ? '' : digits.slice(dot + 1);
  let v = 0;
  for (const c of intPart + fracPart) v = v * 16 + parseInt(c, 16);
  return v / 16 ** fracPart.length;
}

/** Go's rule for `_` in number literals: only between digits, or after a base prefix. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i++;
  let hex = false;
  if (s.length - i >= 2 && s[i] === '0' && /[bBoOxX]/.test(s[i + 1])) {
    hex = s[i + 1] === 'x' || s[i + 1] === 'X';
    i += 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/**
 * strconv.ParseInt(s, 0, 64) converted to float64: base from the prefix (0x, 0o, 0b, or a
 * leading 0 for octal). undefined where Go returns an error, including int64 overflow.
 */
export function goParseIntBase0(s: string): number | undefined {
  const m = /^([+-]?)(0[xX]|0[oO]|0[bB]|0(?=[0-9_]))?([0-9a-fA-F_]+)$/.exec(s);
  if (!m) return undefined;
  const [, sign, prefix = '', rawDigits] = m;
  if (s.includes('_') && !underscoreOK(s)) return undefined;
  const digits = rawDigits.replaceAll('_', '');
  if (digits === '') return undefined;
  const base = prefix === '' ? 10 : /[xX]/.test(prefix) ? 16 : /[bB]/.test(prefix) ? 2 : 8;
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 10 ? /^[0-9]+$/ : base === 8 ? /^[0-7]+$/ : /^[01]+$/;
  if (!valid.test(digits)) return undefined;
  const bigPrefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  let v = BigInt(bigPrefix + digits);
  if (sign === '-') v = -v;
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  return Number(v);
}

/** Prometheus' strutil.Unquote: "…", '…' (Go escapes) or `…` (raw); undefined on bad syntax. */
export function goUnquote(s: string): string | undefined {
  const n = s.length;
  if (n < 2) return undefined;
  const quote = s[0];
  if (quote !== s[n - 1]) return undefined;
  const body = s.slice(1, n - 1);
  if (quote === '`') return body.includes('`') ? undefined : body;
  if (quote !== '"' && quote !== "'") return undefined;
  if (body.includes('\n')) return undefined;
  if (!body.includes('\\') && !body.includes(quote)) return body;

  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const pushRune = (r: number) => bytes.push(...encoder.encode(String.fromCodePoint(r)));
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c === quote) return undefined;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      pushRune(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    if (i + 1 >= body.length) return undefined;
    const e = body[i + 1];
    i += 2;
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
    if (e in simple) {
      bytes.push(simple[e]);
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i, i + len);
      if (hex.length < len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      i += len;
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
      else pushRune(v);
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (oct.length < 3 || !/^[0-7]{3}$/.test(oct)) return undefined;
      i += 2;
      const v = parseInt(oct, 8);
      if (v > 255) return undefined;
      bytes.push(v);
    } else if (e === "'" || e === '"') {
      if (e !== quote) return undefined;
      bytes.push(e.charCodeAt(0));
    } else {
      return undefined;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** strconv.Quote, as used by labels.String() in error messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0x80 && cp < 0xa0) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * strconv.FormatFloat(v, fmt, -1, 64): the shortest decimal that reads back as v, in
 * plain ('f') or exponent ('e') notation. Infinities print as +Inf/-Inf, as in Go.
 */
export function goFormatFloat(v: number, fmt: 'f' | 'e'): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  if (v === 0) return sign + (fmt === 'e' ? '0e+00' : '0');
  const abs = Math.abs(v);
  // Number#toString prints the same shortest digits, in plain notation on [1e-6, 1e21).
  if (fmt === 'f' && abs >= 1e-6 && abs < 1e21) return String(v);
  const { digits, exp } = shortestDigits(Math.abs(v));
  if (fmt === 'e') {
    const mantissa = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const e = exp - 1;
    return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (exp <= 0) return `${sign}0.${'0'.repeat(-exp)}${digits}`;
  if (exp >= digits.length) return sign + digits + '0'.repeat(exp - digits.length);
  return `${sign}${digits.slice(0, exp)}.${digits.slice(exp)}`;
}

/** Shortest round-trip digits of a positive finite x, with x = 0.d1d2… × 10^exp. */
function shortestDigits(x: number): { digits: string; exp: number } {
  // Number#toString is specified to produce the shortest round-tripping digits, as Go does.
  const s = String(x);
  const eAt = s.indexOf('e');
  const mantissa = eAt < 0 ? s : s.slice(0, eAt);
  const exp10 = eAt < 0 ? 0 : Number(s.slice(eAt + 1));
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const fracPart = dot < 0 ? '' : mantissa.slice(dot + 1);
  let all = intPart + fracPart;
  let pointAt = intPart.length + exp10;
  const leadingZeros = all.length - all.replace(/^0+/, '').length;
  all = all.slice(leadingZeros);
  pointAt -= leadingZeros;
  all = all.replace(/0+$/, '');
  return { digits: all, exp: pointAt };
}
