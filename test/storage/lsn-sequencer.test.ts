import { describe, expect, it } from 'vitest';
import { LsnSequencer } from '../../src/storage/lsn-sequencer.ts';

describe('LsnSequencer', () => {
  it('lets a batch apply only after every earlier one is done, failed ones included', async () => {
    const seq = new LsnSequencer();
    const [a, b, c] = [seq.issue(), seq.issue(), seq.issue()];
    const order: number[] = [];
    const third = seq.turn(c).then(() => order.push(c));
    const second = seq.turn(b).then(() => order.push(b));
    expect(seq.isTurn(a)).toBe(true);
    order.push(a);
    seq.done(c); // finished early (its append failed): must not count before a and b
    expect(seq.appliedThrough).toBe(0);
    seq.done(a);
    await second;
    seq.done(b);
    await third;
    expect(order).toEqual([a, b, c]);
    expect(seq.appliedThrough).toBe(3);
  });

  it('whenThrough resolves once every LSN up to it is done', async () => {
    const seq = new LsnSequencer(10);
    const lsn = seq.issue();
    let resolved = false;
    const wait = seq.whenThrough(lsn).then(() => { resolved = true; });
    await Promise.resolve();
    expect(resolved).toBe(false);
    seq.done(lsn);
    await wait;
    expect(resolved).toBe(true);
    await seq.whenThrough(5);
  });

  it('continues after the LSN it was reset to', () => {
    const seq = new LsnSequencer();
    seq.resetTo(41);
    expect(seq.issue()).toBe(42);
    expect(seq.appliedThrough).toBe(41);
  });
});
