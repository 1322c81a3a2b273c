import { describe, expect, it } from 'vitest';
import { createProgress, progressLine } from '../src/progress.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 120, write: (text: string) => writes.push(text) }, writes };
}

describe('progress', () => {
  it('formats done/total, percent, rate and ETA', () => {
    expect(progressLine({ label: 'load', done: 500, total: 2000, elapsedMs: 1000 }))
      .toBe('load [######------------------]  25% 500/2000 500/s ETA 0:03');
    expect(progressLine({ done: 1500, total: 0, elapsedMs: 1000 })).toBe('1500 1.5k/s');
    expect(progressLine({ done: 0, total: 10, elapsedMs: 0 })).toContain('ETA --:--');
  });

  it('draws on a TTY at most once per interval, and ends the line on finish', () => {
    let now = 0;
    const { stream, writes } = fakeStream(true);
    const progress = createProgress({ total: 10, stream, now: () => now, intervalMs: 100 });
    progress.tick();
    progress.tick();
    now = 150;
    progress.tick();
    progress.finish();
    progress.finish();
    expect(writes).toHaveLength(4);
    expect(writes[0]).toMatch(/^\r.* 1\/10 /);
    expect(writes[1]).toMatch(/^\r.* 3\/10 /);
    expect(writes[2]).toMatch(/^\r.* 3\/10 /);
    expect(writes[3]).toBe('\n');
  });

  it('stays silent when the stream is not a TTY', () => {
    const { stream, writes } = fakeStream(false);
    const progress = createProgress({ total: 10, stream });
    progress.update(5);
    progress.finish();
    expect(writes).toEqual([]);
  });
});
