import type { Matcher } from '../index/matcher.ts';

/** Character offsets into the query text, used to word errors as Prometheus does. */
export interface PositionRange {
  start: number;
  end: number;
}

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;

export interface NumberLiteral {
  kind: 'number';
  value: number;
  pos: PositionRange;
}

export interface StringLiteral {
  kind: 'string';
  value: string;
  pos: PositionRange;
}

export interface VectorSelector {
  kind: 'vectorSelector';
  /** The metric name written before the braces, if any; it is also among the matchers. */
  name: string | undefined;
  matchers: Matcher[];
  /** `offset` in milliseconds (negative offsets look ahead). */
  offsetMs: number;
  pos: PositionRange;
}

export interface MatrixSelector {
  kind: 'matrixSelector';
  selector: VectorSelector;
  rangeMs: number;
  pos: PositionRange;
}

export interface ParenExpr {
  kind: 'paren';
  expr: Expr;
  pos: PositionRange;
}

export interface UnaryExpr {
  kind: 'unary';
  op: '+' | '-';
  expr: Expr;
  pos: PositionRange;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

/** How two vectors' samples are paired: `on(labels)` or `ignoring(labels)` (the default, with none). */
export interface VectorMatching {
  card: 'one-to-one' | 'many-to-many';
  on: boolean;
  labels: string[];
}

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /** Present only when both sides are instant vectors. */
  matching: VectorMatching | undefined;
  pos: PositionRange;
}

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'
  | 'count_values';

export interface AggregateExpr {
  kind: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  /** k of topk/bottomk, φ of quantile, label name of count_values. */
  param: Expr | undefined;
  grouping: string[];
  without: boolean;
  pos: PositionRange;
}

export interface Call {
  kind: 'call';
  func: string;
  args: Expr[];
  pos: PositionRange;
}

/** Operators whose result loses the metric name (shouldDropMetricName; atan2 keeps it in 2.42). */
export const NAME_DROPPING_OPS: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%', '^']);
export const COMPARISON_OPS: ReadonlySet<string> = new Set(['==', '!=', '>', '<', '>=', '<=']);
export const SET_OPS: ReadonlySet<string> = new Set(['and', 'or', 'unless']);

/** Names as Prometheus documents value types in its error messages. */
export function documentedType(t: ValueType | 'none'): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}
