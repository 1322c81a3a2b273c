/** Wall-clock source in integer microseconds since the epoch; injected so TTL is testable. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now() * 1000;

/** A clock tests can move by hand. */
export function manualClock(startMicros: number): Clock & { set(t: number): void; advance(d: number): void } {
  let now = startMicros;
  const clock = (() => now) as Clock & { set(t: number): void; advance(d: number): void };
  clock.set = (t) => { now = t; };
  clock.advance = (d) => { now += d; };
  return clock;
}
