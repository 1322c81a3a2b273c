import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import {
  MAX_MICROS,
  MIN_MICROS,
  MicrosDate,
  TimestampError,
  dateToMicros,
  epochMillisToMicros,
  formatMicros,
  isIsoTimestamp,
  isoTimestampProblem,
  msgpackTimestampToMicros,
  parseIsoTimestamp,
  registerExactMsgpackTimestamps,
  timestampProblem,
  timestampToMicros,
} from '../../src/telemetry/time.ts';

const SEED_START = 1733299710501587; // 2024-12-04T08:08:30.501587Z, the seed's example

describe('parseIsoTimestamp', () => {
  it.each([
    ['2024-12-04T08:08:30.501587Z', SEED_START],
    ['2024-12-04T08:08:30.501587+00:00', SEED_START],
    ['2024-12-04T08:08:30.501587', SEED_START], // no offset = UTC (Llama Stack's own output)
    ['2024-12-04T10:08:30.501587+02:00', SEED_START],
    ['2024-12-04T03:38:30.501587-04:30', SEED_START],
    ['2024-12-04T10:08:30.501587+0200', SEED_START],
    ['2024-12-04T10:08:30.501587+02', SEED_START],
    ['2024-12-04 08:08:30.501587', SEED_START], // Python's str(datetime) and SQLite's format
    ['2024-12-04t08:08:30.501587z', SEED_START],
    ['2024-12-04T08:08:30,501587Z', SEED_START],
  ])('%s', (text, micros) => {
    expect(parseIsoTimestamp(text)).toBe(micros);
  });

  it('keeps every fractional digit up to microseconds, exactly', () => {
    expect(parseIsoTimestamp('1970-01-01T00:00:00.000001Z')).toBe(1);
    expect(parseIsoTimestamp('1970-01-01T00:00:00.1Z')).toBe(100_000);
    expect(parseIsoTimestamp('1970-01-01T00:00:00.12Z')).toBe(120_000);
    expect(parseIsoTimestamp('2024-12-04T08:08:30.000001Z')).toBe(1733299710000001);
    expect(parseIsoTimestamp('2024-12-04T08:08:30.999999Z')).toBe(1733299710999999);
  });

  it('truncates digits past the microsecond', () => {
    expect(parseIsoTimestamp('2024-12-04T08:08:30.5015879999Z')).toBe(SEED_START);
    expect(parseIsoTimestamp('1969-12-31T23:59:59.9999999Z')).toBe(-1);
  });

  it('accepts minutes without seconds and a date alone (midnight UTC)', () => {
    expect(parseIsoTimestamp('2024-12-04T08:08Z')).toBe(1733299680000000);
    expect(parseIsoTimestamp('2024-12-04')).toBe(1733270400000000);
  });

  it('handles leap years and times before 1970', () => {
    expect(parseIsoTimestamp('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29) * 1000);
    expect(parseIsoTimestamp('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29) * 1000);
    expect(parseIsoTimestamp('1969-07-20T20:17:40.000001Z')).toBe(Date.UTC(1969, 6, 20, 20, 17, 40) * 1000 + 1);
  });

  it('reaches the exact ends of the safe-integer range and no further', () => {
    expect(parseIsoTimestamp('2255-06-05T23:47:34.740991Z')).toBe(MAX_MICROS);
    expect(parseIsoTimestamp('1684-07-28T00:12:25.259009Z')).toBe(MIN_MICROS);
    expect(() => parseIsoTimestamp('2255-06-05T23:47:34.740992Z')).toThrow(/range/);
    expect(() => parseIsoTimestamp('9999-12-31T23:59:59Z')).toThrow(/range/);
  });

  it.each([
    ['', /YYYY-MM-DD/],
    ['yesterday', /YYYY-MM-DD/],
    ['2024-13-01T00:00:00Z', /month/],
    ['2024-00-01T00:00:00Z', /month/],
    ['2023-02-29T00:00:00Z', /day must be 01-28/],
    ['2024-04-31T00:00:00Z', /day must be 01-30/],
    ['2024-12-04X08:08:30Z', /"T"/],
    ['2024-12-04T24:00:00Z', /hour/],
    ['2024-12-04T08:60:00Z', /minute/],
    ['2024-12-04T08:08:60Z', /second/], // no leap seconds, like Python's datetime
    ['2024-12-04T08:08:30.Z', /digits after/],
    ['2024-12-04T08:08:30.5ZZ', /after "Z"/],
    ['2024-12-04T08:08:30+25:00', /offset hours/],
    ['2024-12-04T08:08:30+02:61', /offset minutes/],
    ['2024-12-04T08:08:30+02:00:00', /after the UTC offset/],
    ['2024-12-04T08:08:30 ', /unexpected/],
    [' 2024-12-04T08:08:30Z', /year/],
    ['+002024-12-04T08:08:30Z', /year/],
    ['2024-1-04T08:08:30Z', /month/],
    ['2024-12-04T8:08:30Z', /hour/],
  ])('rejects %j', (text, reason) => {
    expect(() => parseIsoTimestamp(text)).toThrow(TimestampError);
    expect(() => parseIsoTimestamp(text)).toThrow(reason);
    expect(isIsoTimestamp(text)).toBe(false);
    expect(isoTimestampProblem(text)).toMatch(reason);
  });

  it('quotes the input in the error message', () => {
    expect(() => parseIsoTimestamp('2024-13-01')).toThrow('invalid ISO 8601 timestamp "2024-13-01": expected month 01-12');
  });

  it('agrees with Date.parse on millisecond timestamps (random, property)', () => {
    const dates = fc.date({ min: new Date('1700-01-01T00:00:00Z'), max: new Date('2250-12-31T00:00:00Z'), noInvalidDate: true });
    fc.assert(
      fc.property(dates, (d) => parseIsoTimestamp(d.toISOString()) === d.getTime() * 1000),
      { numRuns: 2000 },
    );
  });
});

describe('formatMicros', () => {
  it('writes six fractional digits and Z', () => {
    expect(formatMicros(SEED_START)).toBe('2024-12-04T08:08:30.501587Z');
    expect(formatMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(formatMicros(1)).toBe('1970-01-01T00:00:00.000001Z');
    expect(formatMicros(-1)).toBe('1969-12-31T23:59:59.999999Z');
    expect(formatMicros(Date.UTC(2024, 1, 29, 23, 59, 59) * 1000)).toBe('2024-02-29T23:59:59.000000Z');
  });

  it('is exact at both ends of the range, where float division would round up a whole second', () => {
    expect(formatMicros(MAX_MICROS)).toBe('2255-06-05T23:47:34.740991Z');
    expect(formatMicros(MIN_MICROS)).toBe('1684-07-28T00:12:25.259009Z');
    expect(formatMicros(9_000_000_000_999_999)).toBe('2255-03-14T16:00:00.999999Z');
  });

  it('rejects values that are not integer microseconds', () => {
    expect(() => formatMicros(1.5)).toThrow(RangeError);
    expect(() => formatMicros(MAX_MICROS + 2)).toThrow(RangeError);
    expect(() => formatMicros(Number.NaN)).toThrow(RangeError);
  });

  it('round-trips every microsecond in range (random, property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MICROS, max: MAX_MICROS }), (micros) => parseIsoTimestamp(formatMicros(micros)) === micros),
      { numRuns: 20_000 },
    );
  });

  it('round-trips microseconds near today, where the data lives (random, property)', () => {
    const recent = fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 });
    fc.assert(fc.property(recent, (micros) => parseIsoTimestamp(formatMicros(micros)) === micros), { numRuns: 20_000 });
  });

  it('agrees with Date#toISOString on the millisecond part (random, property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MICROS + 1000, max: MAX_MICROS }), (micros) => {
        const millis = Math.floor(micros / 1000);
        return formatMicros(millis * 1000) === new Date(millis).toISOString().replace('Z', '000Z');
      }),
      { numRuns: 5000 },
    );
  });

  it('formats offsets back to the same instant in UTC (random, property)', () => {
    const offsets = fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 });
    const instants = fc.integer({ min: 0, max: 4_000_000_000_000_000 });
    fc.assert(
      fc.property(instants, offsets, (micros, offsetMinutes) => {
        const local = formatMicros(micros + offsetMinutes * 60_000_000).slice(0, -1);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        return parseIsoTimestamp(local + offset) === micros;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('epochMillisToMicros', () => {
  it('scales integer and fractional milliseconds to the nearest microsecond', () => {
    expect(epochMillisToMicros(1733299710501)).toBe(1733299710501000);
    expect(epochMillisToMicros(1733299710501.587)).toBe(SEED_START);
    expect(epochMillisToMicros(0.001)).toBe(1);
    expect(epochMillisToMicros(-0.001)).toBe(-1);
    expect(epochMillisToMicros(1733299710501n)).toBe(1733299710501000);
  });

  it('recovers the µs of any ms value written with three decimals (random, property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -4_000_000_000_000_000, max: 4_000_000_000_000_000 }), (micros) => {
        const millis = Number((micros / 1000).toFixed(3));
        return epochMillisToMicros(millis) === micros;
      }),
      { numRuns: 20_000 },
    );
  });

  it('rejects non-finite and out-of-range values', () => {
    expect(() => epochMillisToMicros(Number.NaN)).toThrow(TimestampError);
    expect(() => epochMillisToMicros(Infinity)).toThrow(TimestampError);
    expect(() => epochMillisToMicros(1e16)).toThrow(/out of range/);
    expect(() => epochMillisToMicros(10n ** 20n)).toThrow(/out of range/);
  });
});

describe('Dates and msgpack timestamps', () => {
  it('a plain Date has millisecond precision, a MicrosDate keeps its microseconds', () => {
    expect(dateToMicros(new Date(1733299710501))).toBe(1733299710501000);
    const precise = new MicrosDate(SEED_START);
    expect(precise.getTime()).toBe(1733299710501);
    expect(dateToMicros(precise)).toBe(SEED_START);
    expect(dateToMicros(new MicrosDate(-1))).toBe(-1);
    expect(new MicrosDate(-1).getTime()).toBe(-1);
    expect(() => dateToMicros(new Date(Number.NaN))).toThrow(/invalid Date/);
  });

  it('decodes the three msgpack timestamp layouts, truncating nanoseconds', () => {
    expect(msgpackTimestampToMicros(Uint8Array.from([0x67, 0x50, 0x0d, 0xfe]))).toBe(1733299710000000);
    expect(msgpackTimestampToMicros(timestamp64(1733299710, 501_587_999))).toBe(SEED_START);
    expect(msgpackTimestampToMicros(timestamp96(1733299710, 501_587_123))).toBe(SEED_START);
    expect(msgpackTimestampToMicros(timestamp96(-1, 999_999_000))).toBe(-1);
    expect(() => msgpackTimestampToMicros(new Uint8Array(5))).toThrow(/4, 8 or 12/);
    expect(() => msgpackTimestampToMicros(timestamp96(0, 1_000_000_000))).toThrow(/nanoseconds/);
    expect(() => msgpackTimestampToMicros(timestamp96(2 ** 40, 0))).toThrow(/range/);
  });

  it('msgpackr alone loses sub-millisecond precision; after registration it keeps it', () => {
    const body = withTimestampExt(timestamp96(1733299710, 501_587_000));
    const before = new Unpackr().unpack(body) as Date;
    expect(before instanceof MicrosDate).toBe(false);
    expect(dateToMicros(before)).toBe(1733299710501000); // the 587 µs are gone

    registerExactMsgpackTimestamps();
    const after = new Unpackr().unpack(body) as Date;
    expect(after).toBeInstanceOf(MicrosDate);
    expect(after).toBeInstanceOf(Date);
    expect(dateToMicros(after)).toBe(SEED_START);
    // Dates packed by msgpackr itself still decode to the same instant.
    const packed = new Packr().pack({ t: new Date(1733299710501) });
    expect(timestampToMicros((new Unpackr().unpack(packed) as { t: Date }).t)).toBe(1733299710501000);
  });
});

describe('timestampToMicros / timestampProblem', () => {
  it('accepts every input form', () => {
    expect(timestampToMicros('2024-12-04T08:08:30.501587Z')).toBe(SEED_START);
    expect(timestampToMicros(1733299710501.587)).toBe(SEED_START);
    expect(timestampToMicros(1733299710501n)).toBe(1733299710501000);
    expect(timestampToMicros(new MicrosDate(SEED_START))).toBe(SEED_START);
    expect(timestampProblem('2024-12-04T08:08:30Z')).toBeUndefined();
    expect(timestampProblem(1733299710501)).toBeUndefined();
  });

  it('explains what is wrong', () => {
    expect(() => timestampToMicros(null)).toThrow('got null');
    expect(() => timestampToMicros([1])).toThrow('got array');
    expect(timestampProblem({})).toBe('got object');
    expect(timestampProblem('2024-02-30')).toMatch(/day must be 01-29/);
    expect(timestampProblem(Number.NaN)).toMatch(/out of range/);
  });
});

function timestamp64(seconds: number, nanos: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, nanos * 4 + Math.floor(seconds / 2 ** 32));
  view.setUint32(4, seconds >>> 0);
  return out;
}

function timestamp96(seconds: number, nanos: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, nanos);
  view.setBigInt64(4, BigInt(seconds));
  return out;
}

/** A msgpack ext 8 (0xc7) holding a timestamp (type -1) with the given payload. */
function withTimestampExt(payload: Uint8Array): Uint8Array {
  return Uint8Array.from([0xc7, payload.length, 0xff, ...payload]);
}
