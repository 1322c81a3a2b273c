import { describe, expect, it } from 'vitest';
import { goFormatFloat, goParseFloat, goParseIntBase0, goQuote, goUnquote } from '../../src/promql/gostrconv.ts';
import { goUnixDate } from '../../src/promql/go-time.ts';
import { expandTemplate } from '../../src/promql/label-functions.ts';
import { formatSampleValue } from '../../src/promql/result.ts';

describe('goFormatFloat (strconv.FormatFloat(v, fmt, -1, 64))', () => {
  it.each([
    [0, '0', '0e+00'],
    [-0, '-0', '-0e+00'],
    [1, '1', '1e+00'],
    [0.1, '0.1', '1e-01'],
    [1 / 3, '0.3333333333333333', '3.333333333333333e-01'],
    [1e21, '1000000000000000000000', '1e+21'],
    [1.5e300, '15' + '0'.repeat(299), '1.5e+300'],
    [1e-7, '0.0000001', '1e-07'],
    [5e-324, '0.' + '0'.repeat(323) + '5', '5e-324'],
    [-2.5, '-2.5', '-2.5e+00'],
    [Infinity, '+Inf', '+Inf'],
    [-Infinity, '-Inf', '-Inf'],
    [NaN, 'NaN', 'NaN'],
  ])('%d', (v, f, e) => {
    expect(goFormatFloat(v, 'f')).toBe(f);
    expect(goFormatFloat(v, 'e')).toBe(e);
  });

  it('formats sample values like the HTTP API (exponent below 1e-6 and from 1e21)', () => {
    expect([0, 0.000001, 0.00000099, 123.5, 1e20, 1e21, -1e-7].map(formatSampleValue)).toEqual([
      '0', '0.000001', '9.9e-07', '123.5', '100000000000000000000', '1e+21', '-1e-07',
    ]);
  });
});

describe('Go number parsing', () => {
  it.each([
    ['1', 1], ['+Inf', Infinity], ['-inf', -Infinity], ['infinity', Infinity], ['NaN', NaN], ['0.5', 0.5], ['.5', 0.5],
    ['1.', 1], ['1e3', 1000], ['1_000', 1000], ['0x1p-2', 0.25],
    ['', undefined], ['_1', undefined], ['1__0', undefined], ['0x1F', undefined], ['1e', undefined], ['+nan', undefined],
    ['1e400', undefined], ['abc', undefined],
  ])('ParseFloat(%j)', (s, want) => {
    expect(goParseFloat(s)).toEqual(want);
  });

  it.each([
    ['0', 0], ['017', 15], ['0x1F', 31], ['0o17', 15], ['0b101', 5], ['1_000', 1000],
    ['08', undefined], ['1.5', undefined], ['9223372036854775807', 9223372036854775807], ['9223372036854775808', undefined],
  ])('ParseInt(%j, 0, 64)', (s, want) => {
    expect(goParseIntBase0(s)).toEqual(want);
  });
});

describe('Go string quoting', () => {
  it.each([
    ['"a\\nb"', 'a\nb'], ["'it\\'s'", "it's"], ['`raw\\n`', 'raw\\n'], ['"\\x41\\101\\u00e9\\U0001F600"', 'AAé😀'],
    ['"\\q"', undefined], ['"a"b"', undefined], ["'\\\"'", undefined], ['"a\nb"', undefined], ['`a`b`', undefined], ['"', undefined],
  ])('Unquote(%j)', (s, want) => {
    expect(goUnquote(s)).toBe(want);
  });

  it('quotes like strconv.Quote', () => {
    expect(goQuote('a"b\\c\n\x01é')).toBe('"a\\"b\\\\c\\n\\x01é"');
  });
});

describe('Go regexp template expansion (label_replace)', () => {
  const groups: Record<string | number, string> = { 0: 'whole', 1: 'one', 2: 'two', name: 'named' };
  const group = (ref: number | string) => groups[ref] ?? '';
  it.each([
    ['$1', 'one'], ['${1}x', 'onex'], ['$1x', ''], ['$name-$2', 'named-two'], ['${name}', 'named'], ['$$1', '$1'],
    ['$', '$'], ['a$-b', 'a$-b'], ['${1', '${1'], ['$01', ''], ['$0', 'whole'], ['plain', 'plain'],
  ])('%j', (template, want) => {
    expect(expandTemplate(template, group)).toBe(want);
  });
});

describe('Go time arithmetic for the date functions', () => {
  it('matches the calendar for ordinary times', () => {
    for (const t of [0, -1, 951782400, 1704072637, 253402300799, -62135596800]) {
      const d = goUnixDate(t);
      const js = new Date(t * 1000);
      expect([d.year, d.month, d.day, d.hour, d.minute, d.weekday]).toEqual([
        js.getUTCFullYear(), js.getUTCMonth() + 1, js.getUTCDate(), js.getUTCHours(), js.getUTCMinutes(), js.getUTCDay(),
      ]);
    }
    expect(goUnixDate(951782400)).toMatchObject({ month: 2, day: 29, yearDay: 60, daysInMonth: 29 });
  });

  it('turns NaN and out-of-range values into Go\'s time.Unix(math.MinInt64)', () => {
    // Go: time.Unix(-1<<63, 0).UTC() is 292277026596-12-04 15:30:08 UTC, a Sunday.
    for (const v of [NaN, Infinity, -Infinity, 1e300]) {
      expect(goUnixDate(v)).toMatchObject({ year: 292277026596, month: 12, day: 4, hour: 15, minute: 30, weekday: 0 });
    }
  });
});
