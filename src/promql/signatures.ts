import type { Expr, ValueType } from './ast.ts';

/** A PromQL function's argument and return types (promql/parser/functions.go of 2.42). */
export interface FunctionSignature {
  argTypes: ValueType[];
  /** 0: exactly argTypes; n > 0: the last n arguments are optional; -1: any number more. */
  variadic: number;
  returnType: ValueType;
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const sig = (argTypes: ValueType[], returnType: ValueType = V, variadic = 0): FunctionSignature => ({
  argTypes,
  variadic,
  returnType,
});

/** Every function Prometheus 2.42 knows, so unknown and unsupported ones get different errors. */
export const PROMETHEUS_FUNCTIONS: Readonly<Record<string, FunctionSignature>> = {
  abs: sig([V]),
  absent: sig([V]),
  absent_over_time: sig([M]),
  acos: sig([V]),
  acosh: sig([V]),
  asin: sig([V]),
  asinh: sig([V]),
  atan: sig([V]),
  atanh: sig([V]),
  avg_over_time: sig([M]),
  ceil: sig([V]),
  changes: sig([M]),
  clamp: sig([V, S, S]),
  clamp_max: sig([V, S]),
  clamp_min: sig([V, S]),
  cos: sig([V]),
  cosh: sig([V]),
  count_over_time: sig([M]),
  days_in_month: sig([V], V, 1),
  day_of_month: sig([V], V, 1),
  day_of_week: sig([V], V, 1),
  day_of_year: sig([V], V, 1),
  deg: sig([V]),
  delta: sig([M]),
  deriv: sig([M]),
  exp: sig([V]),
  floor: sig([V]),
  histogram_count: sig([V]),
  histogram_sum: sig([V]),
  histogram_fraction: sig([S, S, V]),
  histogram_quantile: sig([S, V]),
  holt_winters: sig([M, S, S]),
  hour: sig([V], V, 1),
  idelta: sig([M]),
  increase: sig([M]),
  irate: sig([M]),
  label_replace: sig([V, STR, STR, STR, STR]),
  label_join: sig([V, STR, STR, STR], V, -1),
  last_over_time: sig([M]),
  ln: sig([V]),
  log10: sig([V]),
  log2: sig([V]),
  max_over_time: sig([M]),
  min_over_time: sig([M]),
  minute: sig([V], V, 1),
  month: sig([V], V, 1),
  pi: sig([], S),
  predict_linear: sig([M, S]),
  present_over_time: sig([M]),
  quantile_over_time: sig([S, M]),
  rad: sig([V]),
  rate: sig([M]),
  resets: sig([M]),
  round: sig([V, S], V, 1),
  scalar: sig([V], S),
  sgn: sig([V]),
  sin: sig([V]),
  sinh: sig([V]),
  sort: sig([V]),
  sort_desc: sig([V]),
  sqrt: sig([V]),
  stddev_over_time: sig([M]),
  stdvar_over_time: sig([M]),
  sum_over_time: sig([M]),
  tan: sig([V]),
  tanh: sig([V]),
  time: sig([], S),
  timestamp: sig([V]),
  vector: sig([S]),
  year: sig([V], V, 1),
};

/** The value type an expression evaluates to (parser.Expr.Type()). */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vectorSelector':
    case 'aggregate':
      return 'vector';
    case 'matrixSelector':
      return 'matrix';
    case 'paren':
    case 'unary':
      return typeOf(e.expr);
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'call':
      return PROMETHEUS_FUNCTIONS[e.func].returnType;
  }
}
