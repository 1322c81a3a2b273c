/**
 * The moving indices of a step loop over one series' ascending times: each step moves an
 * index forward to its new place. Regular scrapes move it by the same number of samples
 * every step, so `from + moved` (moved: the previous step's move, i.e. the caller keeps
 * `moved = result - from`) is tried first and checked, else the times are walked. Either
 * way the result is the same index; the guess only skips the walk. A small plain function
 * on purpose, so that V8 can inline it into the step loops (selectors.ts' measured no
 * slower than with the step written out). The rate loop (range-loops.ts) writes both of
 * its window's moves out instead: it keeps the times they read at the window's ends.
 */

/** The first index at or after `from` whose time is after `x`, or t.length. */
export function indexAfter(t: Float64Array, from: number, moved: number, x: number): number {
  const len = t.length;
  const guess = from + moved;
  if (guess > 0 && guess < len && t[guess - 1] <= x && t[guess] > x) return guess;
  let i = from;
  while (i < len && t[i] <= x) i++;
  return i;
}
