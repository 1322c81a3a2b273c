/**
 * The PromQL engine: answers equal to Prometheus 2.42's, over any SampleSource.
 *
 *   instantQuery(source, query, timeMs, opts?)                 → QueryResult
 *   rangeQuery(source, query, startMs, endMs, stepMs, opts?)  → QueryResult (always a matrix)
 *
 * Times are Unix milliseconds (fractions are rounded); opts.lookbackDeltaMs defaults to
 * Prometheus' 5 minutes. Results have the shapes of `data` in Prometheus'
 * /api/v1/query and /api/v1/query_range responses ({resultType, result}, sample pairs as
 * [unix seconds, "value"]), so an HTTP route can send them as they are. Failures throw
 * PromQLError, whose `type` is the API's errorType: `bad_data` (HTTP 400: parse errors,
 * unsupported constructs, bad parameters) or `execution` (HTTP 422: e.g. many-to-many
 * matching); its message is the API's `error` text.
 *
 * Value strings are printed as the HTTP API prints them: shortest round-trip digits, in
 * exponent form below 1e-6 and from 1e21 on for vectors and matrices (jsonutil), plain
 * for scalars; +Inf, -Inf, NaN. Instant vectors list series in evaluation order, range
 * matrices sorted by label set.
 *
 * Also for the HTTP layer: parseMetricSelector (parse.ts) for match[] parameters,
 * SampleSource/ArraySource (source.ts) for the data.
 *
 * Evaluation follows Prometheus' engine: every node is evaluated once over the whole step
 * grid (an instant query is a grid of one step); each selector reads the source once for
 * the query's whole window and then walks its samples with moving indices.
 */
import { documentedType, type AggregateExpr, type Expr } from './ast.ts';
import { evalAggregation, evalRangeAggregation, evalSelectorAggregation } from './aggregations.ts';
import { evalBinary } from './binary.ts';
import { badData, PromQLError } from './errors.ts';
import { evalCall, type CallContext } from './functions.ts';
import { dropMetricName, labelsKey } from './labels.ts';
import { parseExpr } from './parse.ts';
import {
  formatScalarValue,
  rawMatrixResult,
  stepMatrixResult,
  toSeconds,
  vectorResult,
  type QueryResult,
} from './result.ts';
import { selectInstantVector, selectMatrix } from './selectors.ts';
import { typeOf } from './signatures.ts';
import type { SampleSource } from './source.ts';
import { assertDistinctLabelSets, type Grid, type StepSeries, type Value } from './vector.ts';
import { sortByLabels } from './result.ts';

export { PromQLError, type PromQLErrorType } from './errors.ts';
export { parseMetricSelector } from './parse.ts';
export type { MatrixSeries, QueryResult, SamplePair, VectorSample } from './result.ts';
export type { Grid, StepSeries } from './vector.ts';
export { ArraySource, type SampleSource, type SeriesData } from './source.ts';

export interface QueryOptions {
  /** How far back an instant selector looks for a sample; Prometheus' default is 5 minutes. */
  lookbackDeltaMs?: number;
  /** Range queries: most steps per series (Prometheus' 11,000; STRATA_MAX_POINTS_PER_SERIES). */
  maxPointsPerSeries?: number;
}

const DEFAULT_LOOKBACK_MS = 5 * 60 * 1000;
/** Prometheus' HTTP API limit on points per series in a range query. */
const MAX_POINTS_PER_SERIES = 11_000;

/** Evaluates `query` at one instant, like GET /api/v1/query?query=…&time=…. */
export function instantQuery(source: SampleSource, query: string, timeMs: number, opts: QueryOptions = {}): QueryResult {
  const time = checkTime(timeMs, 'time');
  const expr = parseQueryParameter(query);
  const grid: Grid = { startMs: time, stepMs: 1, numSteps: 1 };
  const value = new Evaluator(source, grid, lookback(opts)).evalExpr(expr);
  switch (value.type) {
    case 'vector':
      return vectorResult(value.series, time);
    case 'scalar':
      return { resultType: 'scalar', result: [toSeconds(time), formatScalarValue(value.values[0])] };
    case 'matrix':
      return rawMatrixResult(value.series);
    case 'string':
      return { resultType: 'string', result: [toSeconds(time), value.value] };
  }
}

/** Evaluates `query` at start, start+step, … ≤ end, like GET /api/v1/query_range. */
export function rangeQuery(
  source: SampleSource,
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  opts: QueryOptions = {},
): QueryResult {
  const { series, grid } = evaluateRangeQuery(source, query, startMs, endMs, stepMs, opts);
  return stepMatrixResult(series, grid);
}

/** A range query's answer before formatting: its step grid and its series, ordered by label set. */
export interface RangeEvaluation {
  grid: Grid;
  series: StepSeries[];
}

/**
 * rangeQuery without the formatting into sample pairs, for an HTTP layer that writes the
 * JSON itself (result-json.ts); the series come ordered by label set, as in the matrix.
 */
export function evaluateRangeQuery(
  source: SampleSource,
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  opts: QueryOptions = {},
): RangeEvaluation {
  const start = checkTime(startMs, 'start');
  const end = checkTime(endMs, 'end');
  if (end < start) throw badData('invalid parameter "end": end timestamp must not be before start time');
  if (!(stepMs > 0)) {
    throw badData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  // The engine steps in whole milliseconds (durationMilliseconds truncates).
  const step = Math.max(1, Math.trunc(stepMs));
  // The API's guard: Go divides the durations as integers.
  const maxPoints = opts.maxPointsPerSeries ?? MAX_POINTS_PER_SERIES;
  if (Math.floor((end - start) / stepMs) > maxPoints) {
    throw badData(`exceeded maximum resolution of ${maxPoints.toLocaleString('en-US')} points per timeseries. Try decreasing the query resolution (?step=XX)`);
  }
  const expr = parseExpr(query);
  const type = typeOf(expr);
  if (type !== 'vector' && type !== 'scalar') {
    throw badData(`invalid expression type ${JSON.stringify(documentedType(type))} for range query, must be Scalar or instant Vector`);
  }
  const grid: Grid = { startMs: start, stepMs: step, numSteps: Math.floor((end - start) / step) + 1 };
  const value = new Evaluator(source, grid, lookback(opts)).evalExpr(expr);
  if (value.type === 'scalar') {
    const steps = Int32Array.from({ length: grid.numSteps }, (_, i) => i);
    return { grid, series: [{ labels: [], key: labelsKey([]), steps, values: value.values }] };
  }
  if (value.type !== 'vector') throw new Error(`range query evaluated to ${value.type}`);
  return { grid, series: sortByLabels(value.series) };
}

/** /api/v1/query reports parse errors as a bad `query` parameter (query_range does not). */
function parseQueryParameter(query: string): Expr {
  try {
    return parseExpr(query);
  } catch (e) {
    if (e instanceof PromQLError) throw badData(`invalid parameter "query": ${e.message}`);
    throw e;
  }
}

function checkTime(ms: number, name: string): number {
  if (!Number.isFinite(ms)) throw badData(`invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(String(ms))} to a valid timestamp`);
  return Math.round(ms);
}

function lookback(opts: QueryOptions): number {
  return opts.lookbackDeltaMs !== undefined && opts.lookbackDeltaMs > 0 ? opts.lookbackDeltaMs : DEFAULT_LOOKBACK_MS;
}

/** Evaluates AST nodes over the query's step grid. */
class Evaluator implements CallContext {
  constructor(
    readonly source: SampleSource,
    readonly grid: Grid,
    readonly lookbackMs: number,
  ) {}

  evalExpr(e: Expr): Value {
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', values: new Float64Array(this.grid.numSteps).fill(e.value) };
      case 'string':
        return { type: 'string', value: e.value };
      case 'paren':
        return this.evalExpr(e.expr);
      case 'unary':
        return e.op === '-' ? negate(this.evalExpr(e.expr)) : this.evalExpr(e.expr);
      case 'vectorSelector':
        return { type: 'vector', series: selectInstantVector(this.source, e, this.grid, this.lookbackMs) };
      case 'matrixSelector':
        // The parser and rangeQuery's type check leave range selectors only here, in instant queries.
        if (this.grid.numSteps !== 1) throw new PromQLError('execution', 'cannot do range evaluation of matrix selector');
        return { type: 'matrix', series: selectMatrix(this.source, e, this.grid.startMs) };
      case 'binary':
        return evalBinary(e, this.evalExpr(e.lhs), this.evalExpr(e.rhs), this.grid);
      case 'aggregate': {
        const fused = this.rangeAggregation(e);
        if (fused) return { type: 'vector', series: fused };
        const param = e.param ? this.evalExpr(e.param) : undefined;
        const input = this.evalExpr(e.expr);
        if (input.type !== 'vector') throw new Error('aggregation over a non-vector');
        return { type: 'vector', series: evalAggregation(e, input.series, param, this.grid) };
      }
      case 'call':
        return evalCall(e, this);
    }
  }

  /** `agg(f(x[r]))` or `agg(x)` in one pass (aggregations.ts), when they allow it; else null. */
  private rangeAggregation(e: AggregateExpr): StepSeries[] | null {
    let inner = e.expr;
    while (inner.kind === 'paren') inner = inner.expr;
    if (inner.kind === 'vectorSelector') return evalSelectorAggregation(e, inner, this.source, this.grid, this.lookbackMs);
    if (inner.kind !== 'call' || inner.args.length !== 1) return null;
    let arg = inner.args[0];
    while (arg.kind === 'paren') arg = arg.expr;
    if (arg.kind !== 'matrixSelector') return null;
    return evalRangeAggregation(e, inner, arg, this.source, this.grid);
  }
}

/** Unary minus: negates values and, on vectors, drops the metric name. */
function negate(v: Value): Value {
  if (v.type === 'scalar') return { type: 'scalar', values: v.values.map((x) => -x) };
  if (v.type !== 'vector') throw new Error(`unary minus on ${v.type}`);
  const series: StepSeries[] = v.series.map((s) => {
    const labels = dropMetricName(s.labels);
    return { labels, key: labels === s.labels ? s.key : labelsKey(labels), steps: s.steps, values: s.values.map((x) => -x) };
  });
  assertDistinctLabelSets(series);
  return { type: 'vector', series };
}
