/**
 * Switches for the engine's fast paths, all on. Each has a general path that computes the
 * same answer step by step; tests turn a fast path off to compare the two.
 */
export const FAST_PATHS = {
  /** Range functions as one specialised loop per series (range-loops.ts). */
  rangeLoops: true,
  /** sum/avg/min/max/count/group walking each input series once (aggregations.ts). */
  seriesMajorAggregation: true,
  /** One-to-one vector matching pair by pair when no signature repeats (binary.ts). */
  oneToOneBySeries: true,
  /** sum/avg/min/max/count/group of a range function in one pass (aggregations.ts). */
  fusedAggregation: true,
  /** Large answers and range-function loops split with the helper thread (helper.ts). */
  helperThread: true,
};
