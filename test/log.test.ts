import { afterEach, describe, expect, it } from 'vitest';
import { log, setLogLevel, setLogSink } from '../src/log.ts';

describe('log', () => {
  const lines: string[] = [];
  const previous = setLogSink((line) => lines.push(line));

  afterEach(() => {
    lines.length = 0;
    setLogLevel('silent');
  });

  it('writes timestamped lines with fields, dropping those below the level', () => {
    setLogLevel('info');
    log.debug('hidden');
    log.info('listening', { url: 'http://127.0.0.1:1', auth: false, note: 'two words' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO listening url=http:\/\/127\.0\.0\.1:1 auth=false note="two words"\n$/);
  });

  it('keeps an error stack on one line', () => {
    setLogLevel('error');
    log.error('failed', { error: new Error('boom') });
    expect(lines[0]!.trimEnd().split('\n')).toHaveLength(1);
    expect(lines[0]).toContain('Error: boom\\n    at ');
  });

  it('stays silent at level silent', () => {
    setLogLevel('silent');
    log.error('nothing');
    expect(lines).toEqual([]);
    setLogSink(previous);
  });
});
