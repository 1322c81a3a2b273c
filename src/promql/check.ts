import { compileMatcher } from '../index/matcher.ts';
import { COMPARISON_OPS, SET_OPS, documentedType, type BinaryExpr, type Call, type Expr, type PositionRange, type ValueType } from './ast.ts';
import { parseError } from './errors.ts';
import { PROMETHEUS_FUNCTIONS, typeOf } from './signatures.ts';

/** The type checks of Prometheus' parser (checkAST), with its wording. */
export class Checker {
  constructor(private readonly query: string) {}

  check(e: Expr): void {
    switch (e.kind) {
      case 'number':
      case 'string':
        return;
      case 'matrixSelector':
        this.check(e.selector);
        return;
      case 'vectorSelector':
        if (e.name === undefined && e.matchers.every((m) => compileMatcher(m).matches(''))) {
          this.fail(e.pos, 'vector selector must contain at least one non-empty matcher');
        }
        return;
      case 'paren':
        this.check(e.expr);
        return;
      case 'unary': {
        this.check(e.expr);
        const t = typeOf(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(t))}`);
        }
        return;
      }
      case 'binary':
        this.checkBinary(e);
        return;
      case 'aggregate':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.param && (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile')) {
          this.expectType(e.param, 'scalar', 'aggregation parameter');
        }
        if (e.param && e.op === 'count_values') this.expectType(e.param, 'string', 'aggregation parameter');
        return;
      case 'call':
        this.checkCall(e);
        return;
    }
  }

  private checkBinary(e: BinaryExpr): void {
    this.check(e.lhs);
    this.check(e.rhs);
    const lt = typeOf(e.lhs);
    const rt = typeOf(e.rhs);
    const opPos = { start: e.lhs.pos.end, end: e.rhs.pos.start };
    while (opPos.start < opPos.end && /\s/.test(this.query[opPos.start])) opPos.start++;
    if (e.returnBool && !COMPARISON_OPS.has(e.op)) this.fail(opPos, 'bool modifier can only be used on comparison operators');
    if (COMPARISON_OPS.has(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
      this.fail(opPos, 'comparisons between scalars must use BOOL modifier');
    }
    if (lt !== 'scalar' && lt !== 'vector') this.fail(e.lhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') this.fail(e.rhs.pos, 'binary expression must contain only scalar and instant vector types');
    if ((lt === 'scalar' || rt === 'scalar') && SET_OPS.has(e.op)) {
      this.fail(e.pos, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
    }
  }

  private checkCall(e: Call): void {
    const sig = PROMETHEUS_FUNCTIONS[e.func];
    const nargs = sig.argTypes.length;
    if (sig.variadic === 0) {
      if (nargs !== e.args.length) {
        this.fail(e.pos, `expected ${nargs} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`);
      }
    } else {
      const required = nargs - 1;
      if (required > e.args.length) {
        this.fail(e.pos, `expected at least ${required} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`);
      } else if (sig.variadic > 0 && required + sig.variadic < e.args.length) {
        this.fail(e.pos, `expected at most ${required + sig.variadic} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`);
      }
    }
    e.args.forEach((arg, i) => {
      if (i >= nargs && sig.variadic === 0) return;
      const want = sig.argTypes[Math.min(i, nargs - 1)];
      this.expectType(arg, want, `call to function ${JSON.stringify(e.func)}`);
    });
  }

  private expectType(e: Expr, want: ValueType, context: string): void {
    this.check(e);
    const got = typeOf(e);
    if (got !== want) this.fail(e.pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(got)}`);
  }

  private fail(pos: PositionRange, message: string): never {
    throw parseError(this.query, pos.start, message);
  }
}
