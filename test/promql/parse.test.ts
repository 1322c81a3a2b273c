import { describe, expect, it } from 'vitest';
import type { Expr } from '../../src/promql/ast.ts';
import { PromQLError } from '../../src/promql/errors.ts';
import { parseExpr, parseMetricSelector } from '../../src/promql/parse.ts';
import prometheusCases from './testdata/parse-cases.json' with { type: 'json' };

/** The AST without positions, for compact expectations. */
function shape(e: Expr): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k, x]) => k !== 'pos' && x !== undefined).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return strip(e);
}

const sel = (name: string | undefined, matchers: [string, string, string][] = [], offsetMs = 0) => ({
  kind: 'vectorSelector',
  name,
  matchers: [
    ...matchers.map(([n, op, value]) => ({ name: n, op, value })),
    ...(name === undefined ? [] : [{ name: '__name__', op: '=', value: name }]),
  ],
  offsetMs,
});
const num = (value: number) => ({ kind: 'number', value });
const matrix = (selector: unknown, rangeMs: number) => ({ kind: 'matrixSelector', selector, rangeMs });
const oneToOne = (on = false, labels: string[] = []) => ({ card: 'one-to-one', on, labels });

function parseError(query: string): PromQLError {
  try {
    parseExpr(query);
  } catch (e) {
    if (e instanceof PromQLError) return e;
    throw e;
  }
  throw new Error(`${query} parsed`);
}

describe('parseExpr: every supported construct', () => {
  it.each<[string, unknown]>([
    ['1', num(1)],
    ['0x1F', num(31)],
    ['017', num(15)], // Go's ParseInt(s, 0, 64) reads a leading 0 as octal.
    ['1.5e3', num(1500)],
    ['.5', num(0.5)],
    ['2.', num(2)],
    ['Inf', num(Infinity)],
    ['+Inf', num(Infinity)],
    ['-inf', num(-Infinity)],
    ['NaN', num(NaN)],
    ['-1', num(-1)],
    ['"a\\nb"', { kind: 'string', value: 'a\nb' }],
    ["'single'", { kind: 'string', value: 'single' }],
    ['`raw\\n`', { kind: 'string', value: 'raw\\n' }],
    ['foo', sel('foo')],
    ['foo:bar_total', sel('foo:bar_total')],
    ['foo{a="b", c!="d", e=~"f.*", g!~"h|i",}', sel('foo', [['a', '=', 'b'], ['c', '!=', 'd'], ['e', '=~', 'f.*'], ['g', '!~', 'h|i']])],
    ['{__name__="foo"}', sel(undefined, [['__name__', '=', 'foo']])],
    ['{__name__=~"foo|bar", job="x"}', sel(undefined, [['__name__', '=~', 'foo|bar'], ['job', '=', 'x']])],
    ['foo{on="x"}', sel('foo', [['on', '=', 'x']])],
    ['foo offset 5m', sel('foo', [], 300_000)],
    ['foo offset -1h30m', sel('foo', [], -5_400_000)],
    ['foo[5m]', matrix(sel('foo'), 300_000)],
    ['foo[1h] offset 2d', matrix(sel('foo', [], 172_800_000), 3_600_000)],
    ['foo[500ms]', matrix(sel('foo'), 500)],
    ['foo[1y]', matrix(sel('foo'), 31_536_000_000)],
    ['(foo)', { kind: 'paren', expr: sel('foo') }],
    ['-foo', { kind: 'unary', op: '-', expr: sel('foo') }],
    ['-2 ^ 2', { kind: 'unary', op: '-', expr: { kind: 'binary', op: '^', lhs: num(2), rhs: num(2), returnBool: false } }],
    ['a + b', { kind: 'binary', op: '+', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: oneToOne() }],
    ['a - 1', { kind: 'binary', op: '-', lhs: sel('a'), rhs: num(1), returnBool: false }],
    ['a * b / c', { kind: 'binary', op: '/', lhs: { kind: 'binary', op: '*', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: oneToOne() }, rhs: sel('c'), returnBool: false, matching: oneToOne() }],
    ['a % 2 ^ 3', { kind: 'binary', op: '%', lhs: sel('a'), rhs: { kind: 'binary', op: '^', lhs: num(2), rhs: num(3), returnBool: false }, returnBool: false }],
    ['a atan2 b', { kind: 'binary', op: 'atan2', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: oneToOne() }],
    ['a == b', { kind: 'binary', op: '==', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: oneToOne() }],
    ['a != bool 1', { kind: 'binary', op: '!=', lhs: sel('a'), rhs: num(1), returnBool: true }],
    ['1 >= bool 2', { kind: 'binary', op: '>=', lhs: num(1), rhs: num(2), returnBool: true }],
    ['a < on(x, y) b', { kind: 'binary', op: '<', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: oneToOne(true, ['x', 'y']) }],
    ['a <= bool ignoring(x) b', { kind: 'binary', op: '<=', lhs: sel('a'), rhs: sel('b'), returnBool: true, matching: oneToOne(false, ['x']) }],
    ['a > on() b', { kind: 'binary', op: '>', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: oneToOne(true, []) }],
    ['a and b', { kind: 'binary', op: 'and', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: { card: 'many-to-many', on: false, labels: [] } }],
    ['a or on(x) b', { kind: 'binary', op: 'or', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: { card: 'many-to-many', on: true, labels: ['x'] } }],
    ['a unless ignoring(x) b', { kind: 'binary', op: 'unless', lhs: sel('a'), rhs: sel('b'), returnBool: false, matching: { card: 'many-to-many', on: false, labels: ['x'] } }],
    ['a or b offset 5m', { kind: 'binary', op: 'or', lhs: sel('a'), rhs: sel('b', [], 300_000), returnBool: false, matching: { card: 'many-to-many', on: false, labels: [] } }],
    ['sum(foo)', { kind: 'aggregate', op: 'sum', expr: sel('foo'), grouping: [], without: false }],
    ['avg by (a, b) (foo)', { kind: 'aggregate', op: 'avg', expr: sel('foo'), grouping: ['a', 'b'], without: false }],
    ['max(foo) without (a)', { kind: 'aggregate', op: 'max', expr: sel('foo'), grouping: ['a'], without: true }],
    ['min without () (foo)', { kind: 'aggregate', op: 'min', expr: sel('foo'), grouping: [], without: true }],
    ['COUNT(foo) BY (by, on)', { kind: 'aggregate', op: 'count', expr: sel('foo'), grouping: ['by', 'on'], without: false }],
    ['group(foo)', { kind: 'aggregate', op: 'group', expr: sel('foo'), grouping: [], without: false }],
    ['stddev(foo)', { kind: 'aggregate', op: 'stddev', expr: sel('foo'), grouping: [], without: false }],
    ['stdvar(foo)', { kind: 'aggregate', op: 'stdvar', expr: sel('foo'), grouping: [], without: false }],
    ['topk(3, foo)', { kind: 'aggregate', op: 'topk', expr: sel('foo'), param: num(3), grouping: [], without: false }],
    ['bottomk by (a) (1, foo)', { kind: 'aggregate', op: 'bottomk', expr: sel('foo'), param: num(1), grouping: ['a'], without: false }],
    ['quantile(0.9, foo)', { kind: 'aggregate', op: 'quantile', expr: sel('foo'), param: num(0.9), grouping: [], without: false }],
    ['count_values("v", foo)', { kind: 'aggregate', op: 'count_values', expr: sel('foo'), param: { kind: 'string', value: 'v' }, grouping: [], without: false }],
    ['rate(foo[5m])', { kind: 'call', func: 'rate', args: [matrix(sel('foo'), 300_000)] }],
    ['rate((foo[5m]))', { kind: 'call', func: 'rate', args: [{ kind: 'paren', expr: matrix(sel('foo'), 300_000) }] }],
    ['round(foo, 0.5)', { kind: 'call', func: 'round', args: [sel('foo'), num(0.5)] }],
    ['round(foo)', { kind: 'call', func: 'round', args: [sel('foo')] }],
    ['histogram_quantile(0.9, foo)', { kind: 'call', func: 'histogram_quantile', args: [num(0.9), sel('foo')] }],
    ['time()', { kind: 'call', func: 'time', args: [] }],
    ['hour()', { kind: 'call', func: 'hour', args: [] }],
    ['label_replace(foo, "dst", "$1", "src", "(.*)")', { kind: 'call', func: 'label_replace', args: [sel('foo'), { kind: 'string', value: 'dst' }, { kind: 'string', value: '$1' }, { kind: 'string', value: 'src' }, { kind: 'string', value: '(.*)' }] }],
    ['label_join(foo, "dst", ",", "a", "b")', { kind: 'call', func: 'label_join', args: [sel('foo'), { kind: 'string', value: 'dst' }, { kind: 'string', value: ',' }, { kind: 'string', value: 'a' }, { kind: 'string', value: 'b' }] }],
    ['predict_linear(foo[1h], 3600)', { kind: 'call', func: 'predict_linear', args: [matrix(sel('foo'), 3_600_000), num(3600)] }],
    ['holt_winters(foo[1m], 0.5, 0.1)', { kind: 'call', func: 'holt_winters', args: [matrix(sel('foo'), 60_000), num(0.5), num(0.1)] }],
    ['quantile_over_time(0.5, foo[1m])', { kind: 'call', func: 'quantile_over_time', args: [num(0.5), matrix(sel('foo'), 60_000)] }],
    ['foo # a comment', sel('foo')],
  ])('%s', (query, expected) => {
    expect(shape(parseExpr(query))).toEqual(expected);
  });

  it('keeps positions for error messages', () => {
    expect(parseExpr('  sum(x)').pos).toEqual({ start: 2, end: 8 });
  });

  it.each([
    'irate', 'increase', 'delta', 'idelta', 'avg_over_time', 'sum_over_time', 'min_over_time', 'max_over_time',
    'count_over_time', 'last_over_time', 'stddev_over_time', 'stdvar_over_time', 'present_over_time', 'changes',
    'resets', 'deriv', 'absent_over_time',
  ])('range function %s', (func) => {
    expect(shape(parseExpr(`${func}(foo[1m])`))).toEqual({ kind: 'call', func, args: [matrix(sel('foo'), 60_000)] });
  });

  it.each(['abs', 'ceil', 'floor', 'exp', 'ln', 'log2', 'log10', 'sqrt', 'sgn', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan',
    'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'rad', 'deg', 'sort', 'sort_desc', 'absent', 'timestamp', 'minute',
    'hour', 'day_of_week', 'day_of_month', 'day_of_year', 'days_in_month', 'month', 'year'])('vector function %s', (func) => {
    expect(shape(parseExpr(`${func}(foo)`))).toEqual({ kind: 'call', func, args: [sel('foo')] });
  });
});

describe('parseExpr: unsupported constructs are bad_data naming the construct', () => {
  it.each([
    ['histogram_count(foo)', 'unsupported function "histogram_count"'],
    ['histogram_fraction(0, 1, foo)', 'unsupported function "histogram_fraction"'],
    ['a * on(x) group_left(y) b', 'unsupported vector matching modifier "group_left"'],
    ['a / ignoring(x) group_right b', 'unsupported vector matching modifier "group_right"'],
    ['rate(foo[5m:1m])', 'unsupported subquery "foo[5m:1m]"'],
    ['foo @ 1609746000', 'unsupported "@" modifier'],
    ['foo @ start()', 'unsupported "@" modifier'],
  ])('%s', (query, message) => {
    const e = parseError(query);
    expect(e.type).toBe('bad_data');
    expect(e.message).toContain(message);
  });
});

describe('parseExpr: errors worded like Prometheus, with position', () => {
  it.each([
    ['', 'no expression found in input'],
    ['foo +', '1:6: parse error: unexpected end of input'],
    ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
    ['sum(foo', '1:8: parse error: unclosed left parenthesis'],
    ['foo)', "1:5: parse error: unexpected right parenthesis ')'"],
    ['foo{a=b}', '1:7: parse error: unexpected identifier "b" in label matching, expected string'],
    ['foo{a="b"', '1:10: parse error: unexpected end of input inside braces'],
    ['foo[5m', '1:7: parse error: unclosed left bracket'],
    ['foo[5x]', '1:5: parse error: bad duration syntax: "5"'],
    ['foo[5]', '1:5: parse error: missing unit character in duration'],
    ['foo[0s]', '1:5: parse error: duration must be greater than 0'],
    ['foo[5m1h]', '1:5: parse error: not a valid duration string: "5m1h"'],
    ['foo offset 5', '1:12: parse error: unexpected number "5" in offset, expected duration'],
    ['5m', '1:1: parse error: unexpected duration "5m"'],
    ['"unterminated', '1:1: parse error: unterminated quoted string'],
    ['"\\q"', "1:1: parse error: unknown escape sequence U+0071 'q'"],
    ['foo $', "1:5: parse error: unexpected character: '$'"],
    ['foo{a=~"("}', '1:5: parse error: error parsing regexp: missing closing ): `^(?:()$`'],
    ['nosuch(foo)', '1:1: parse error: unknown function with name "nosuch"'],
    ['rate(foo)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['abs(foo[5m])', '1:5: parse error: expected type instant vector in call to function "abs", got range vector'],
    ['round(foo, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'],
    ['time(foo)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
    ['clamp_min(foo)', '1:1: parse error: expected 2 argument(s) in call to "clamp_min", got 1'],
    ['sum(foo[5m])', '1:5: parse error: expected type instant vector in aggregation expression, got range vector'],
    ['topk(foo, bar)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
    ['count_values(1, foo)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
    ['sum()', '1:1: parse error: no arguments for aggregate expression provided'],
    ['topk(foo)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
    ['sum(a, b)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'],
    ['1 > 2', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
    ['a + bool b', '1:3: parse error: bool modifier can only be used on comparison operators'],
    ['1 and foo', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
    ['1 + on(a) foo', '1:1: parse error: vector matching only allowed between instant vectors'],
    ['foo[5m] + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
    ['-foo[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
    ['-"s"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{a=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
    ['sum(foo) offset 5m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
    ['foo offset 5m offset 1m', '1:1: parse error: offset may not be set multiple times'],
    ['foo offset 5m [5m]', '1:15: parse error: no offset modifiers allowed before range'],
    ['(foo)[5m]', '1:6: parse error: ranges only allowed for vector selectors'],
    ['topk(foo,)', '1:9: parse error: trailing commas not allowed in function call args'],
    ['1e', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax'],
    ['1e999', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e999": value out of range'],
  ])('%j', (query, message) => {
    const e = parseError(query);
    expect(e.type).toBe('bad_data');
    expect(e.message).toBe(message.startsWith('1:') ? message : e.message);
    expect(e.message).toContain(message);
  });

  it('counts lines and columns from the query start', () => {
    expect(parseError('sum(\n  foo bar)').message).toBe('2:7: parse error: unexpected identifier "bar"');
  });
});

/**
 * Prometheus' own parser test table (promql/parser/parse_test.go of v2.42.0, inputs and
 * expected error texts): valid inputs must parse (or be rejected as unsupported), invalid
 * ones must fail with an error containing Prometheus' message.
 */
describe('parseExpr: Prometheus 2.42 parse_test.go cases', () => {
  const cases = prometheusCases as { input: string; fail: boolean; errMsg: string | null }[];
  it.each(cases.map((c) => [c.input, c] as const))('%j', (_, c) => {
    let error: unknown;
    try {
      parseExpr(c.input);
    } catch (e) {
      error = e;
    }
    if (error instanceof PromQLError && error.message.startsWith('unsupported')) return;
    if (!c.fail) {
      expect(error).toBeUndefined();
      return;
    }
    expect(error).toBeInstanceOf(PromQLError);
    if (c.errMsg) expect((error as PromQLError).message).toContain(c.errMsg);
  });
});

describe('parseMetricSelector (match[] of /api/v1/series)', () => {
  it('returns the matchers, the metric name last', () => {
    expect(parseMetricSelector('up{job=~"a|b", x!=""}')).toEqual([
      { name: 'job', op: '=~', value: 'a|b' },
      { name: 'x', op: '!=', value: '' },
      { name: '__name__', op: '=', value: 'up' },
    ]);
    expect(parseMetricSelector('{__name__!~"go_.*"}')).toEqual([{ name: '__name__', op: '!~', value: 'go_.*' }]);
    // Emptiness is the API's check ("match[] must contain at least one non-empty matcher").
    expect(parseMetricSelector('{}')).toEqual([]);
  });

  it.each([
    ['rate(x[5m])', '1:5: parse error: unexpected "("'],
    ['a + b', '1:3: parse error: unexpected <op:+>'],
    ['sum(x)', '1:1: parse error: unexpected <aggr:sum>'],
    ['x[5m]', '1:2: parse error: unexpected "["'],
    ['x offset 5m', '1:3: parse error: unexpected <offset>'],
    ['foo{a=b}', '1:7: parse error: unexpected identifier "b" in label matching, expected string'],
    ['', '1:1: parse error: no expression found in input'],
  ])('rejects %j', (input, message) => {
    expect(() => parseMetricSelector(input)).toThrow(message);
  });
});
