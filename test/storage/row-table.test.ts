import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/storage/clock.ts';
import { RowTable } from '../../src/storage/row-table.ts';

const SEC = 1_000_000;
const T0 = 1_700_000_000 * SEC;

function table(clock = manualClock(T0)) {
  return new RowTable('logs', [
    { name: 'severity', kind: 'dict' },
    { name: 'message', kind: 'str' },
    { name: 'level', kind: 'u8' },
  ], { maxHeadRows: 4, maxHeadAgeMicros: 60 * SEC }, clock);
}

describe('RowTable', () => {
  it('numbers rows across seals and reads any cell back by row id', () => {
    const t = table();
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push(t.append({ ts: T0 + i, expiry: T0 + 100 * SEC, severity: i % 2 ? 'warn' : 'info', message: `m${i}`, level: i }));
      if (t.shouldSeal()) t.seal();
    }
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.segments).toHaveLength(2);
    for (let i = 0; i < 10; i++) {
      expect(t.get(i, 'message')).toBe(`m${i}`);
      expect(t.get(i, 'severity')).toBe(i % 2 ? 'warn' : 'info');
      expect(t.num(i, 'level')).toBe(i);
    }
  });

  it('absent strings read back as undefined and as null in the Arrow batch', () => {
    const t = table();
    t.append({ ts: T0, expiry: T0 + SEC });
    const seg = t.seal()!;
    expect(t.get(0, 'severity')).toBeUndefined();
    expect(t.get(0, 'message')).toBeUndefined();
    expect(seg.batch.getChild('severity')!.get(0)).toBeNull();
    expect(seg.batch.getChild('message')!.get(0)).toBeNull();
    expect(seg.batch.numRows).toBe(1);
  });

  it('scans a time range over segments and head, skipping expired rows', () => {
    const clock = manualClock(T0);
    const t = table(clock);
    for (let i = 0; i < 10; i++) {
      t.append({ ts: T0 + i * SEC, expiry: T0 + (i % 2 ? 5 : 100) * SEC, message: `m${i}` });
      if (t.shouldSeal()) t.seal();
    }
    clock.set(T0 + 10 * SEC);
    const seen: number[] = [];
    t.scan(T0 + 2 * SEC, T0 + 8 * SEC, (id) => seen.push(id));
    expect(seen).toEqual([2, 4, 6, 8]);
  });

  it('drops a segment once every row in it expired, and its rows read as gone', () => {
    const clock = manualClock(T0);
    const t = table(clock);
    for (let i = 0; i < 4; i++) t.append({ ts: T0 + i, expiry: T0 + (i === 3 ? 50 : 10) * SEC, message: 'x' });
    t.seal();
    clock.set(T0 + 20 * SEC);
    expect(t.dropExpired()).toHaveLength(0);
    clock.set(T0 + 50 * SEC);
    expect(t.dropExpired()).toHaveLength(1);
    expect(t.get(0, 'message')).toBeUndefined();
    expect(t.rowCount).toBe(0);
  });
});
