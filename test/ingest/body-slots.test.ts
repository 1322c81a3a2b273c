import { describe, expect, it } from 'vitest';
import { copyIntoShared } from '../../src/storage/bytes.ts';
import { BodySlots } from '../../src/telemetry/body-slots.ts';

describe('BodySlots', () => {
  it('hands out views of free slots of one shared buffer and takes them back once', () => {
    const slots = new BodySlots(2, 64);
    const a = slots.take(10)!, b = slots.take(64)!;
    expect(a.buffer).toBe(slots.buffer);
    expect([a.length, b.length]).toEqual([10, 64]);
    expect(Math.abs(a.byteOffset - b.byteOffset)).toBe(64);
    expect(slots.take(1)).toBeNull(); // all claimed
    expect([slots.slotOf(a), slots.slotOf(b)].sort()).toEqual([0, 1]);
    expect(slots.slotOf(new Uint8Array(slots.buffer, a.byteOffset, 10))).toBe(-1); // only the view handed out counts

    slots.release(a);
    expect(slots.inUse).toBe(1);
    const c = slots.take(5)!;
    expect(c.byteOffset).toBe(a.byteOffset); // a's slot, claimed again
    slots.release(a); // a stale view: frees nothing
    expect(slots.inUse).toBe(2);
    expect(slots.slotOf(c)).toBeGreaterThanOrEqual(0);
  });

  it('gives each slot an entry region right behind its body region', () => {
    const slots = new BodySlots(2, 64, 32);
    const a = slots.take(64)!, b = slots.take(1)!;
    const slotA = slots.slotOf(a), slotB = slots.slotOf(b);
    expect(slots.entry(slotA, 32).byteOffset).toBe(a.byteOffset + 64);
    expect(slots.entry(slotB, 5).byteOffset).toBe(b.byteOffset + 64);
    expect(BodySlots.offsetOf(slotB, 64, 32)).toBe(b.byteOffset);
    expect(() => slots.entry(slotA, 33)).toThrow(RangeError);
  });

  it('has no slot for a body larger than a slot, or an empty one', () => {
    const slots = new BodySlots(1, 64);
    expect(slots.take(65)).toBeNull();
    expect(slots.take(0)).toBeNull();
    expect(slots.inUse).toBe(0);
  });
});

describe('copyIntoShared', () => {
  it('copies like set() at every source and target alignment', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(300));
    const source = Uint8Array.from({ length: 120 }, (_, i) => (i * 7 + 3) & 0xff);
    for (let srcOffset = 0; srcOffset < 8; srcOffset++) {
      for (let at = 0; at < 9; at++) {
        shared.fill(0);
        const part = source.subarray(srcOffset, srcOffset + 100);
        copyIntoShared(shared.subarray(5), part, at);
        expect(Array.from(shared.subarray(5 + at, 5 + at + 100))).toEqual(Array.from(part));
        expect(shared[5 + at - 1] ?? 0).toBe(0);
        expect(shared[5 + at + 100]).toBe(0);
      }
    }
  });
});
