import { describe, expect, it } from 'vitest';
import { parseArgs, parseDuration, parseFilter, parseMatcher, parseTime, typedValue, UsageError } from '../../src/cli/args.ts';
import { renderTable, seriesName } from '../../src/cli/table.ts';

describe('CLI argument parsing', () => {
  const specs = {
    url: { kind: 'string', help: '' },
    json: { kind: 'boolean', help: '' },
    filter: { kind: 'list', help: '' },
    start: { kind: 'string', help: '' },
  } as const;

  it('reads --flag value, --flag=value, booleans, repeats, positionals, - and --', () => {
    const args = parseArgs(['q', '--url', 'http://x', '--json', '--filter=a=1', '--filter', 'b>2', '-', '--start', '-1h', '--', '--not-a-flag'], specs);
    expect(args.flags.get('url')).toBe('http://x');
    expect(args.flags.get('json')).toBe(true);
    expect(args.flags.get('filter')).toEqual(['a=1', 'b>2']);
    expect(args.flags.get('start')).toBe('-1h');
    expect(args.positionals).toEqual(['q', '-', '--not-a-flag']);
  });

  it('rejects unknown flags, missing values and values on booleans', () => {
    expect(() => parseArgs(['--nope'], specs)).toThrow(UsageError);
    expect(() => parseArgs(['--url'], specs)).toThrow(/--url needs a value/);
    expect(() => parseArgs(['--json=yes'], specs)).toThrow(/takes no value/);
  });

  it('parses attribute filters with typed values', () => {
    expect(parseFilter('session_id=abc')).toEqual({ key: 'session_id', op: 'eq', value: 'abc' });
    expect(parseFilter('turn_index!=2')).toEqual({ key: 'turn_index', op: 'ne', value: 2 });
    expect(parseFilter('tokens>1.5e3')).toEqual({ key: 'tokens', op: 'gt', value: 1500 });
    expect(parseFilter('ok<true')).toEqual({ key: 'ok', op: 'lt', value: true });
    expect(parseFilter('id="5"')).toEqual({ key: 'id', op: 'eq', value: '5' });
    expect(parseFilter('url=http://a/b?c=d')).toEqual({ key: 'url', op: 'eq', value: 'http://a/b?c=d' });
    expect(() => parseFilter('novalue')).toThrow(UsageError);
    expect(() => parseFilter('=x')).toThrow(UsageError);
    expect(typedValue(' 12 ')).toBe(12);
    expect(typedValue('12a')).toBe('12a');
  });

  it('parses Prometheus label matchers', () => {
    expect(parseMatcher('model_id=llama')).toEqual({ name: 'model_id', operator: '=', value: 'llama' });
    expect(parseMatcher('model_id!=llama')).toEqual({ name: 'model_id', operator: '!=', value: 'llama' });
    expect(parseMatcher('model_id=~.*70B.*')).toEqual({ name: 'model_id', operator: '=~', value: '.*70B.*' });
    expect(parseMatcher('model_id!~"a|b"')).toEqual({ name: 'model_id', operator: '!~', value: 'a|b' });
    expect(parseMatcher('empty=')).toEqual({ name: 'empty', operator: '=', value: '' });
    expect(() => parseMatcher('model_id')).toThrow(UsageError);
  });

  it('parses times and durations', () => {
    const now = 1_700_000_000_000;
    expect(parseTime('now', now)).toBe(1_700_000_000);
    expect(parseTime('-15m', now)).toBe(1_700_000_000 - 900);
    expect(parseTime('now-1h', now)).toBe(1_700_000_000 - 3600);
    expect(parseTime('1699990000', now)).toBe(1_699_990_000);
    expect(parseTime('2023-11-14T22:13:20Z', now)).toBe(1_700_000_000);
    expect(() => parseTime('yesterday', now)).toThrow(UsageError);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('15')).toBe(15);
    expect(() => parseDuration('0s')).toThrow(UsageError);
  });

  it('renders aligned tables and Prometheus-style series names', () => {
    expect(renderTable(['name', 'n'], [['a', 1], ['long name', 22.5]])).toBe('name          n\n---------  ----\na             1\nlong name  22.5\n');
    expect(seriesName({ __name__: 'up', b: '2', a: 'x"y' })).toBe('up{a="x\\"y", b="2"}');
    expect(seriesName({ a: '1' })).toBe('{a="1"}');
  });
});
