import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeRunsKeepingLast, NO_VALUES, sortKeepingLast } from '../../src/promql/series-order.ts';

/** Runs of (time, value) rows, each run in time order, with repeated times within and across runs. */
const sortedRuns = fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer()), { maxLength: 30 }).map((run) => run.sort((a, b) => a[0] - b[0])), { minLength: 1, maxLength: 6 });

function columns(runs: [number, number][][]) {
  const rows = runs.flat();
  const runStart = new Int32Array(runs.length + 1);
  for (let r = 0; r < runs.length; r++) runStart[r + 1] = runStart[r]! + runs[r]!.length;
  return { ts: Float64Array.from(rows, (x) => x[0]), values: Float64Array.from(rows, (x) => x[1]), runStart };
}

describe('series order', () => {
  it('merging runs that are each in time order gives what a stable sort keeping the last of equal times gives', () => {
    fc.assert(
      fc.property(sortedRuns, (runs) => {
        const { ts, values, runStart } = columns(runs);
        const [mTs, mValues] = mergeRunsKeepingLast(ts, values, runStart, runs.length);
        const [sTs, sValues] = sortKeepingLast(ts, values, false);
        expect([...mTs]).toEqual([...sTs]);
        expect([...mValues]).toEqual([...sValues]);
        // And the model: per time, the value of its last row in run order.
        const last = new Map<number, number>();
        for (const [t, v] of runs.flat()) last.set(t, v);
        expect([...mTs]).toEqual([...last.keys()].sort((a, b) => a - b));
        expect([...mValues]).toEqual([...mTs].map((t) => last.get(t)));
      }),
      { numRuns: 300 },
    );
  });

  it('merges times alone when the values were not read', () => {
    const { ts, runStart } = columns([[[1, 0], [5, 0], [9, 0]], [[4, 0], [5, 0], [12, 0]]]);
    const [mTs, mValues] = mergeRunsKeepingLast(ts, NO_VALUES, runStart, 2);
    expect([...mTs]).toEqual([1, 4, 5, 9, 12]);
    expect(mValues).toBe(NO_VALUES);
  });
});
