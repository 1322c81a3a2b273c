import { describe, expect, it } from 'vitest';
import { FlushPacer } from '../../src/storage/flush-pacer.ts';

function pacer(quietMs: number, maxDelayMs: number) {
  let now = 0;
  const p = new FlushPacer(quietMs, maxDelayMs, () => now);
  return { p, at: (ms: number) => (now = ms) };
}

describe('FlushPacer', () => {
  it('flushes at once when nothing was ingested, and never when nothing is due', () => {
    const { p } = pacer(1000, 10_000);
    expect(p.mayFlush(true)).toBe(true);
    expect(p.mayFlush(false)).toBe(false);
  });

  it('waits for ingest to be quiet for quietMs', () => {
    const { p, at } = pacer(1000, 10_000);
    at(100);
    p.ingested();
    at(600);
    expect(p.mayFlush(true)).toBe(false);
    at(1099);
    expect(p.mayFlush(true)).toBe(false);
    at(1100);
    expect(p.mayFlush(true)).toBe(true);
  });

  it('flushes anyway maxDelayMs after it first put the flush off, then starts counting again', () => {
    const { p, at } = pacer(1000, 5000);
    for (let t = 0; t <= 20_000; t += 500) {
      at(t);
      p.ingested();
      const flushed = p.mayFlush(true);
      // Put off first at 0: due at 5000, then put off again at 5500, due at 10500, ...
      expect(flushed, `at ${t}`).toBe(t === 5000 || t === 10_500 || t === 16_000);
    }
  });

  it('forgets a deferral when nothing was due', () => {
    const { p, at } = pacer(1000, 5000);
    /** A batch comes in at `t`; then the timer asks (something due or not). */
    const tick = (t: number, due = true) => {
      at(t);
      p.ingested();
      return p.mayFlush(due);
    };
    expect(tick(0)).toBe(false);
    expect(tick(3000, false)).toBe(false);
    // Put off again from 6000, not from 0.
    expect(tick(6000)).toBe(false);
    expect(tick(10_999)).toBe(false);
    expect(tick(11_000)).toBe(true);
  });
});
