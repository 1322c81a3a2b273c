/**
 * Timestamps on the wire <-> integer microseconds since the Unix epoch (a JS number).
 *
 * Microseconds are the engine's unit (ARCHITECTURE: "Time is integer microseconds held in
 * Float64Array"), and Llama Stack prints six fractional digits, so every conversion here is
 * exact integer arithmetic: the fraction is read digit by digit, never through a float or
 * Date.parse, so `.000001` is 1 µs and a round trip never drifts.
 *
 * Accepted ISO 8601 strings (what pydantic's datetime parser accepts, minus its oddities):
 *   YYYY-MM-DD                               date only = midnight UTC
 *   YYYY-MM-DD(T|t| )HH:MM[:SS[(.|,)F+]]     fraction of any length, digits past 6 truncated
 *   ... followed by Z | z | ±HH:MM | ±HHMM | ±HH, or nothing (= UTC)
 * Rejected: leap second 60, hour 24, expanded years (+YYYYYY), surrounding whitespace, and
 * instants whose microsecond count is not a safe integer (outside MIN_MICROS..MAX_MICROS,
 * about 1684-07-28 .. 2255-06-05), because past that a number no longer holds exact µs.
 */
import { addExtension } from 'msgpackr';

/** Latest representable instant: 2255-06-05T23:47:34.740991Z. */
export const MAX_MICROS = Number.MAX_SAFE_INTEGER;
/** Largest |epoch ms| whose µs is still exact. */
export const MAX_EPOCH_MILLIS = Math.floor(MAX_MICROS / 1000);
/** Earliest representable instant: 1684-07-28T00:12:25.259009Z. */
export const MIN_MICROS = -Number.MAX_SAFE_INTEGER;

const MICROS_PER_SECOND = 1_000_000;
const SECONDS_PER_DAY = 86_400;

/** A timestamp that could not be read; the message says why and quotes the input. */
export class TimestampError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimestampError';
  }
}

/** Anything a request may carry as a timestamp: ISO string, epoch milliseconds, or a decoded msgpack timestamp. */
export type TimestampInput = string | number | bigint | Date;

// ---------------------------------------------------------------------------------------------
// ISO 8601 strings
// ---------------------------------------------------------------------------------------------

/** Parses an ISO 8601 timestamp to µs since the epoch; throws TimestampError when it is not one. */
export function parseIsoTimestamp(text: string): number {
  const result = scanIso(text);
  if (typeof result === 'string') throw new TimestampError(`invalid ISO 8601 timestamp ${quote(text)}: ${result}`);
  return result;
}

/** True when parseIsoTimestamp would succeed; never allocates an error. */
export function isIsoTimestamp(text: string): boolean {
  return typeof scanIso(text) === 'number';
}

/** Why `text` is not a valid timestamp, or undefined when it is one. */
export function isoTimestampProblem(text: string): string | undefined {
  const result = scanIso(text);
  return typeof result === 'string' ? result : undefined;
}

/**
 * The scanner behind the three functions above. It returns the µs value, or a reason string
 * on failure, so the validation path can reject without building an Error per bad value.
 */
function scanIso(s: string): number | string {
  const n = s.length;
  if (n < 10) return 'expected at least YYYY-MM-DD';
  const year = digits(s, 0, 4);
  if (year < 0 || s.charCodeAt(4) !== DASH) return 'expected a 4-digit year then "-"';
  const month = digits(s, 5, 2);
  if (month < 1 || month > 12 || s.charCodeAt(7) !== DASH) return 'expected month 01-12 then "-"';
  const day = digits(s, 8, 2);
  if (day < 1 || day > daysInMonth(year, month)) return `day must be 01-${daysInMonth(year, month)} for ${s.slice(0, 7)}`;
  const days = daysFromCivil(year, month, day);
  if (n === 10) return toMicros(days * SECONDS_PER_DAY, 0);

  const sep = s.charCodeAt(10);
  if (sep !== UPPER_T && sep !== LOWER_T && sep !== SPACE) return 'expected "T" or " " between date and time';
  const hour = digits(s, 11, 2);
  if (hour < 0 || hour > 23 || s.charCodeAt(13) !== COLON) return 'expected hour 00-23 then ":"';
  const minute = digits(s, 14, 2);
  if (minute < 0 || minute > 59) return 'expected minute 00-59';
  let i = 16;
  let second = 0;
  let fraction = 0;
  if (i < n && s.charCodeAt(i) === COLON) {
    second = digits(s, i + 1, 2);
    if (second < 0 || second > 59) return 'expected second 00-59';
    i += 3;
    if (i < n && (s.charCodeAt(i) === DOT || s.charCodeAt(i) === COMMA)) {
      const start = ++i;
      let scale = MICROS_PER_SECOND;
      for (; i < n; i++) {
        const d = s.charCodeAt(i) - ZERO;
        if (d < 0 || d > 9) break;
        // Digits past the sixth are dropped (truncation), as Python's fromisoformat does.
        if (scale > 1) fraction += d * (scale /= 10);
      }
      if (i === start) return 'expected digits after the decimal separator';
    }
  }
  const offsetSeconds = scanOffset(s, i);
  if (typeof offsetSeconds === 'string') return offsetSeconds;
  return toMicros(days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offsetSeconds, fraction);
}

/** Reads the UTC offset starting at `i` (which must run to the end of the string), in seconds east of UTC. */
function scanOffset(s: string, i: number): number | string {
  const n = s.length;
  if (i === n) return 0;
  const c = s.charCodeAt(i);
  if (c === UPPER_Z || c === LOWER_Z) return i + 1 === n ? 0 : 'unexpected text after "Z"';
  if (c !== PLUS && c !== DASH) return `unexpected ${quote(s.slice(i))}, expected ":SS", fraction or UTC offset`;
  const hours = digits(s, i + 1, 2);
  if (hours < 0 || hours > 23) return 'expected offset hours 00-23';
  let minutes = 0;
  let end = i + 3;
  if (end < n) {
    const afterHours = s.charCodeAt(end) === COLON ? end + 1 : end;
    minutes = digits(s, afterHours, 2);
    if (minutes < 0 || minutes > 59) return 'expected offset minutes 00-59';
    end = afterHours + 2;
  }
  if (end !== n) return `unexpected text after the UTC offset`;
  const sign = c === DASH ? -1 : 1;
  return sign * (hours * 3600 + minutes * 60);
}

function toMicros(seconds: number, fraction: number): number | string {
  // Both parts are integers, so the sum is exact whenever it is a safe integer; a product
  // that overflowed rounds to >= 2^53 and fails the same check.
  const micros = seconds * MICROS_PER_SECOND + fraction;
  return Number.isSafeInteger(micros) ? micros : 'outside the representable range 1684-07-28 .. 2255-06-05';
}

/** The non-negative integer spelled by `count` ASCII digits at `at`, or -1 if any is not a digit. */
function digits(s: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - ZERO; // NaN past the end, which fails the test below
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

const ZERO = 48;
const DASH = 45;
const PLUS = 43;
const COLON = 58;
const DOT = 46;
const COMMA = 44;
const SPACE = 32;
const UPPER_T = 84;
const LOWER_T = 116;
const UPPER_Z = 90;
const LOWER_Z = 122;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, H. Hinnant's days_from_civil / civil_from_days)
// ---------------------------------------------------------------------------------------------

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : DAYS_IN_MONTH[m];
}
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a calendar date. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Writes year, month, day of `days` since 1970-01-01 into `out`, avoiding a per-call object. */
function civilFromDays(days: number, out: Int32Array): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  out[0] = m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400;
  out[1] = m;
  out[2] = d;
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const civil = new Int32Array(3);
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);

/** Formats µs since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fractional digits, UTC). */
export function formatMicros(micros: number): string {
  if (!Number.isSafeInteger(micros)) throw new RangeError(`not an integer microsecond timestamp: ${micros}`);
  // `%` is exact on integers where division is not: (2^53 - 1) / 1e6 rounds up across a whole
  // second, so split with the remainder and divide only exact multiples.
  const fraction = floorMod(micros, MICROS_PER_SECOND);
  const seconds = (micros - fraction) / MICROS_PER_SECOND;
  const secondOfDay = floorMod(seconds, SECONDS_PER_DAY);
  civilFromDays((seconds - secondOfDay) / SECONDS_PER_DAY, civil);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  return (
    pad4(civil[0]) + '-' + TWO_DIGITS[civil[1]] + '-' + TWO_DIGITS[civil[2]] +
    'T' + TWO_DIGITS[hour] + ':' + TWO_DIGITS[minute] + ':' + TWO_DIGITS[secondOfDay % 60] +
    '.' + pad6(fraction) + 'Z'
  );
}

function floorMod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : String(n).padStart(4, '0');
}

function pad6(n: number): string {
  return n >= 100_000 ? String(n) : String(n).padStart(6, '0');
}

// ---------------------------------------------------------------------------------------------
// Numbers, Dates and msgpack timestamps
// ---------------------------------------------------------------------------------------------

/**
 * Epoch milliseconds (possibly fractional) to µs. A fractional value is a binary approximation
 * of a decimal (1733299710501.587 is stored as ...501.58691...), so the result is rounded to
 * the nearest µs, which is the one the sender meant. BigInt is accepted because msgpackr
 * decodes uint64/int64 (what Python's msgpack writes for ms > 2^32) as BigInt by default.
 */
export function epochMillisToMicros(millis: number | bigint): number {
  const micros = typeof millis === 'bigint' ? Number(millis) * 1000 : Math.round(millis * 1000);
  if (!Number.isSafeInteger(micros)) throw new TimestampError(`epoch milliseconds out of range: ${String(millis)}`);
  return micros;
}

/**
 * A Date that remembers the microseconds a msgpack timestamp carried. It is a real Date
 * (its ms value is the floor of `micros`), so code that only knows Date keeps working.
 */
export class MicrosDate extends Date {
  readonly micros: number;
  constructor(micros: number) {
    super(Math.floor(micros / 1000));
    this.micros = micros;
  }
}

/** A Date to µs: exact for a MicrosDate, millisecond precision for any other Date. */
export function dateToMicros(date: Date): number {
  if (date instanceof MicrosDate) return date.micros;
  const millis = date.getTime();
  if (Number.isNaN(millis)) throw new TimestampError('invalid Date');
  const micros = millis * 1000;
  if (!Number.isSafeInteger(micros)) throw new TimestampError(`Date out of range: ${date.toISOString()}`);
  return micros;
}

/**
 * Decodes the payload of a msgpack timestamp extension (type -1) to µs, truncating
 * nanoseconds. The three layouts of the msgpack spec:
 *   4 bytes:  uint32 seconds
 *   8 bytes:  uint30 nanoseconds | uint34 seconds
 *   12 bytes: uint32 nanoseconds, int64 seconds
 */
export function msgpackTimestampToMicros(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let seconds: number;
  let nanos = 0;
  if (data.length === 4) {
    seconds = view.getUint32(0);
  } else if (data.length === 8) {
    const high = view.getUint32(0);
    nanos = high >>> 2;
    seconds = (high & 0x3) * 0x1_0000_0000 + view.getUint32(4);
  } else if (data.length === 12) {
    nanos = view.getUint32(0);
    seconds = view.getInt32(4) * 0x1_0000_0000 + view.getUint32(8);
  } else {
    throw new TimestampError(`msgpack timestamp must be 4, 8 or 12 bytes, got ${data.length}`);
  }
  if (nanos >= 1_000_000_000) throw new TimestampError(`msgpack timestamp nanoseconds out of range: ${nanos}`);
  const micros = toMicros(seconds, Math.floor(nanos / 1000));
  if (typeof micros === 'string') throw new TimestampError(`msgpack timestamp ${micros}`);
  return micros;
}

/**
 * Makes every msgpackr unpack in this process decode timestamp extensions to MicrosDate
 * instead of a millisecond Date. msgpackr's built-in decoder drops everything below the
 * millisecond and has no per-instance option for it; its extension table is process-wide
 * (slot 0xff, the unsigned byte of type -1), so the override is global. It is safe to share:
 * MicrosDate is a Date. Call once at startup; calling again is harmless.
 */
export function registerExactMsgpackTimestamps(): void {
  addExtension({ type: 0xff, unpack: (data: Uint8Array) => new MicrosDate(msgpackTimestampToMicros(data)) });
}

/**
 * Any accepted timestamp to µs: an ISO 8601 string, epoch milliseconds (number or BigInt),
 * or a Date (a MicrosDate keeps its microseconds). Throws TimestampError otherwise.
 */
export function timestampToMicros(value: unknown): number {
  if (typeof value === 'string') return parseIsoTimestamp(value);
  if (typeof value === 'number' || typeof value === 'bigint') return epochMillisToMicros(value);
  if (value instanceof Date) return dateToMicros(value);
  throw new TimestampError(`expected an ISO 8601 string, epoch milliseconds or a timestamp, got ${describeType(value)}`);
}

/** Why `value` is not an accepted timestamp, or undefined when it is one. Cheap enough for validators. */
export function timestampProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return isoTimestampProblem(value);
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof Date) {
    try {
      timestampToMicros(value);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return `got ${describeType(value)}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? text.slice(0, 64) + '…' : text);
}
