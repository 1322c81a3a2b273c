/**
 * The regex cost bounds of label matchers (src/index/matcher.ts): RE2 is linear in the value,
 * but compile time and per-character cost grow with the compiled program, so large programs,
 * long patterns and expensive (program × value) matches are refused with a MatcherError (400).
 */
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it, vi } from 'vitest';
import {
  checkRegexCost, compileMatcher, estimateProgramSize, MatcherError, MAX_REGEX_LENGTH, MAX_REGEX_PROGRAM,
} from '../../src/index/matcher.ts';

describe('estimateProgramSize', () => {
  it('is an upper estimate of the compiled size for repetition-heavy patterns', () => {
    for (const pattern of ['[a-z]{0,1000}', '(.*a){1000}', '(?:[a-z]{0,100}){10}', 'a{1000}b{1000}c{1000}', '\\d{1,3}(\\.\\d{1,3}){3}', '(a+)+'.repeat(100)]) {
      const actual = RE2JS.compile(`^(?:${pattern})$`).programSize();
      expect(estimateProgramSize(pattern), pattern).toBeGreaterThanOrEqual(actual * 0.9);
    }
  });

  it('never throws, whatever the pattern', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (p) => { expect(Number.isFinite(estimateProgramSize(p))).toBe(true); }));
    fc.assert(fc.property(fc.stringMatching(/^[()[\]{}\\|*+?a-z0-9,^$.:]{0,80}$/), (p) => { expect(Number.isFinite(estimateProgramSize(p))).toBe(true); }));
  });
});

describe('checkRegexCost and compileMatcher', () => {
  it('refuses long patterns and expanding repetitions before compiling them', () => {
    const started = performance.now();
    expect(() => checkRegexCost('x'.repeat(MAX_REGEX_LENGTH + 1))).toThrow(/is too long: the limit is 16384/);
    expect(() => checkRegexCost('[a-z]{0,1000}'.repeat(20))).toThrow(/too complex: its repetitions expand to about \d+ instructions, more than 20000/);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('accepts what people write: alternations of many values, classes, anchors', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `service-${i}`).join('|');
    for (const value of [values, '.*foo.*', 'api|web', '[0-9]{1,3}(\\.[0-9]{1,3}){3}', '(?i)error', '']) {
      const m = compileMatcher({ name: 'a', op: '=~', value });
      expect(typeof m.matches('service-999')).toBe('boolean');
    }
  });

  it('refuses a program too large for a value (one match cannot be interrupted), as a 400', () => {
    const m = compileMatcher({ name: 'path', op: '=~', value: '(.*a){1000}' });
    expect(m.matches('aaa')).toBe(false);
    let error: unknown;
    try {
      m.matches('a'.repeat(5000));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MatcherError);
    expect(error).toMatchObject({ status: 400, detail: expect.stringMatching(/too expensive for a label value of 5000 characters/) });
  });

  it('stops a selection that spends more than its time budget matching', () => {
    // Time is simulated (each match "takes" 50 ms): RE2JS caches DFA states, so real slow matches are hard to repeat on cue.
    let fakeNow = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => (fakeNow += 50));
    try {
      const m = compileMatcher({ name: 'a', op: '!~', value: '(.*a){20}' });
      let calls = 0;
      expect(() => { for (; calls < 1000; calls++) m.matches(`a${calls}`); }).toThrow(/is too expensive: matching label values took more than 2 s/);
      expect(calls).toBe(40);
    } finally {
      spy.mockRestore();
    }
  });

  it('the largest patterns within the caps compile quickly', () => {
    expect(MAX_REGEX_PROGRAM).toBe(20_000);
    for (const value of ['(a+)+'.repeat(3000), '[a-z]{0,1000}'.repeat(9), 'x'.repeat(MAX_REGEX_LENGTH)]) {
      const started = performance.now();
      compileMatcher({ name: 'a', op: '=~', value });
      expect(performance.now() - started, value.slice(0, 20)).toBeLessThan(5000);
    }
  });
});
