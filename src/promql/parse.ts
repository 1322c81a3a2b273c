import { parser } from '@prometheus-io/lezer-promql';
import { RE2JS } from 're2js';
import type { SyntaxNode } from '@lezer/common';
import { compileMatcher, type MatchOp, type Matcher } from '../index/matcher.ts';
import type {
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  PositionRange,
  VectorMatching,
  VectorSelector,
} from './ast.ts';
import { COMPARISON_OPS, SET_OPS, documentedType } from './ast.ts';
import { parseDurationMs } from './duration.ts';
import { PromQLError, badData, parseError } from './errors.ts';
import { isSupportedFunction } from './functions.ts';
import { goParseFloat, goParseIntBase0, goUnquote } from './gostrconv.ts';
import { METRIC_NAME } from './labels.ts';
import { PROMETHEUS_FUNCTIONS, typeOf } from './signatures.ts';
import { describeTokenAt } from './tokens.ts';
import { firstLexError } from './lex-errors.ts';

/**
 * Parses a PromQL query into our AST with Prometheus 2.42's grammar and checks.
 *
 * The Prometheus project's lezer grammar does the syntax; it is error-tolerant and
 * knows newer syntax (Prometheus 3), so this module turns its first error node into a
 * Prometheus-worded parse error, rejects what 2.42 did not have, and then runs the type
 * checks of 2.42's parser (checkAST). Constructs 2.42 has but strata does not implement
 * (subqueries, `@`, group_left/right, some functions) are `bad_data` errors naming them.
 */
export function parseExpr(query: string): Expr {
  if (/^(\s|#[^\n]*)*$/.test(query)) throw parseError(query, 0, 'no expression found in input');
  const tree = parser.parse(withoutTrailingDots(query));
  const syntaxError = firstErrorNode(tree.topNode);
  const lexError = firstLexError(query);
  // Prometheus' lexer stops at its error before the grammar sees what follows (+1: an
  // unmatched `)` is reported just past itself).
  if (lexError && (!syntaxError || lexError.pos <= syntaxError.from + 1)) {
    throw parseError(query, lexError.pos, lexError.message);
  }
  if (syntaxError) throw syntaxErrorAt(query, syntaxError);
  const top = exprChildren(tree.topNode);
  if (top.length === 0) throw parseError(query, 0, 'no expression found in input');
  const expr = new Converter(query).expr(top[0]);
  new Checker(query).check(expr);
  return expr;
}

/**
 * 2.42 reads `1.` as a number; lezer's tokenizer does not. Blanking such a dot keeps the
 * value and every character position (strings and comments are left alone).
 */
function withoutTrailingDots(query: string): string {
  return query.replace(
    /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`|#[^\n]*|[A-Za-z_:][A-Za-z0-9_:]*)|(?<![0-9.])([0-9]+)\.(?![0-9A-Za-z_])/g,
    (match, skipped: string | undefined, digits: string | undefined) => (skipped !== undefined ? match : `${digits} `),
  );
}

function firstErrorNode(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type.isError) return node;
  for (let c = node.firstChild; c; c = c.nextSibling) {
    const found = firstErrorNode(c);
    if (found) return found;
  }
  return undefined;
}

function syntaxErrorAt(query: string, node: SyntaxNode): PromQLError {
  // lezer reads `f(x)` with an unknown `f` as a selector followed by junk at "(".
  if (query[node.from] === '(') {
    const name = /([A-Za-z_][A-Za-z0-9_:]*)\s*$/.exec(query.slice(0, node.from));
    // lezer follows Prometheus 3, which renamed holt_winters.
    if (name && name[1] in PROMETHEUS_FUNCTIONS) throw badData(`unsupported function ${JSON.stringify(name[1])}`);
    if (name) return parseError(query, name.index, `unknown function with name ${JSON.stringify(name[1])}`);
  }
  const before = query.slice(0, node.from).trimEnd();
  if (node.parent?.name === 'FunctionCallBody' && before.endsWith(',')) {
    return parseError(query, before.length - 1, 'trailing commas not allowed in function call args');
  }
  return parseError(query, node.from, describeTokenAt(query, node.from) + errorContext(query, node));
}

/** The "in <context>, expected <what>" tail Prometheus' grammar adds to an unexpected token. */
function errorContext(query: string, node: SyntaxNode): string {
  const parent = node.parent?.name;
  const previous = node.prevSibling;
  switch (parent) {
    case 'UnquotedLabelMatcher':
      return previous?.name === 'MatchOp' ? ' in label matching, expected string' : ' in label matching, expected label matching operator';
    case 'LabelMatchers': {
      const afterMatcher = previous?.name === 'UnquotedLabelMatcher' && !query.slice(previous.to, node.from).includes(',');
      return afterMatcher ? ' in label matching, expected "," or "}"' : ' in label matching, expected identifier or "}"';
    }
    case 'GroupingLabels':
      return ' in grouping opts, expected label';
    case 'AggregateModifier':
      return ' in grouping opts, expected "("';
    case 'OffsetExpr':
      return ' in offset, expected duration';
    case 'StepInvariantExpr':
      return ' in @, expected timestamp';
    default:
      return '';
  }
}

function exprChildren(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.name !== 'LineComment') out.push(c);
  }
  return out;
}

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
  Atan2: 'atan2',
};

const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const AGGREGATE_OPS: ReadonlySet<string> = new Set<AggregateOp>([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
]);
const AGGREGATES_WITH_PARAM: ReadonlySet<string> = new Set(['topk', 'bottomk', 'quantile', 'count_values']);

/** Turns lezer nodes into AST nodes, rejecting syntax that Prometheus 2.42 lacks. */
class Converter {
  constructor(private readonly query: string) {}

  expr(node: SyntaxNode): Expr {
    const pos = { start: node.from, end: node.to };
    switch (node.name) {
      case 'NumberDurationLiteral':
        return { kind: 'number', value: this.number(node), pos };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(node), pos };
      case 'VectorSelector':
        return this.vectorSelector(node);
      case 'MatrixSelector':
        return this.matrixSelector(node);
      case 'OffsetExpr':
        return this.offsetExpr(node);
      case 'ParenExpr':
        return { kind: 'paren', expr: this.expr(this.only(node)), pos };
      case 'UnaryExpr': {
        const [op, operand] = exprChildren(node);
        return { kind: 'unary', op: this.text(op) === '-' ? '-' : '+', expr: this.expr(operand), pos };
      }
      case 'BinaryExpr':
        return this.binaryExpr(node);
      case 'AggregateExpr':
        return this.aggregateExpr(node);
      case 'FunctionCall':
        return this.call(node);
      case 'SubqueryExpr':
        throw badData(`unsupported subquery ${JSON.stringify(this.text(node))}: subqueries are not supported`);
      case 'StepInvariantExpr':
        throw badData('unsupported "@" modifier: the @ modifier is not supported');
      default:
        // Prometheus 3 syntax (smoothed/anchored ranges, duration arithmetic, fill()).
        throw this.unexpected(this.newerSyntaxStart(node));
    }
  }

  private number(node: SyntaxNode): number {
    // lezer folds a sign into the literal (`- 1`); the sign is a unary operator in 2.42.
    const signed = /^([+-])\s*/.exec(this.text(node));
    const text = this.text(node).slice(signed ? signed[0].length : 0);
    const isNumber =
      /^(inf|nan)$/i.test(text) ||
      /^0[xX][0-9a-fA-F]*(\.[0-9a-fA-F]*)?$/.test(text) ||
      /^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]*)?$/.test(text);
    if (!isNumber) {
      if (typeof parseDurationMs(text) === 'number') throw this.unexpected(node.from);
      throw parseError(this.query, node.from, `bad number or duration syntax: ${JSON.stringify(text)}`);
    }
    const value = goParseIntBase0(text) ?? goParseFloat(text);
    if (value === undefined) {
      const reason = Number(text) === Infinity ? 'value out of range' : 'invalid syntax';
      throw parseError(this.query, node.from, `error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(text)}: ${reason}`);
    }
    return signed?.[1] === '-' ? -value : value;
  }

  private string(node: SyntaxNode): string {
    const text = this.text(node);
    const value = goUnquote(text);
    if (value === undefined) throw parseError(this.query, node.from, `error unquoting string ${JSON.stringify(text)}: invalid syntax`);
    return value;
  }

  private vectorSelector(node: SyntaxNode): VectorSelector {
    const matchers: Matcher[] = [];
    let name: string | undefined;
    for (const c of exprChildren(node)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') {
        for (const m of exprChildren(c)) matchers.push(this.labelMatcher(m));
      } else throw this.unexpected(c.from);
    }
    if (name !== undefined) {
      const twice = matchers.find((m) => m.name === METRIC_NAME);
      if (twice) {
        throw parseError(this.query, node.from, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(twice.value)}`);
      }
      matchers.push({ name: METRIC_NAME, op: '=', value: name });
    }
    return { kind: 'vectorSelector', name, matchers, offsetMs: 0, pos: { start: node.from, end: node.to } };
  }

  private labelMatcher(node: SyntaxNode): Matcher {
    if (node.name !== 'UnquotedLabelMatcher') throw this.unexpected(node.from);
    const [labelNode, opNode, valueNode] = exprChildren(node);
    const op = MATCH_OPS[opNode.firstChild?.name ?? ''];
    if (!op || valueNode?.name !== 'StringLiteral') throw this.unexpected(opNode.from);
    const matcher: Matcher = { name: this.text(labelNode), op, value: this.string(valueNode) };
    if (op === '=~' || op === '!~') {
      try {
        // Compiled as 2.42 compiles it, so the error reads like Go's regexp error.
        RE2JS.compile(`^(?:${matcher.value})$`);
      } catch (e) {
        throw parseError(this.query, node.from, (e as Error).message);
      }
    }
    return matcher;
  }

  private matrixSelector(node: SyntaxNode): Expr {
    const [inner, durationNode] = exprChildren(node);
    if (inner.name === 'UnaryExpr') {
      // `[...]` binds tighter than unary minus in 2.42: -x[5m] is -(x[5m]), which the type check rejects.
      const [op, operand] = exprChildren(inner);
      const range = this.matrixOf(operand, durationNode, { start: operand.from, end: node.to });
      return { kind: 'unary', op: this.text(op) === '-' ? '-' : '+', expr: range, pos: { start: node.from, end: node.to } };
    }
    return this.matrixOf(inner, durationNode, { start: node.from, end: node.to });
  }

  private matrixOf(inner: SyntaxNode, durationNode: SyntaxNode, pos: PositionRange): MatrixSelector {
    if (inner.name === 'OffsetExpr') {
      throw parseError(this.query, durationNode.from - 1, 'no offset modifiers allowed before range');
    }
    if (inner.name === 'StepInvariantExpr') {
      throw parseError(this.query, durationNode.from - 1, 'no @ modifiers allowed before range');
    }
    if (inner.name !== 'VectorSelector') {
      throw parseError(this.query, durationNode.from - 1, 'ranges only allowed for vector selectors');
    }
    return { kind: 'matrixSelector', selector: this.vectorSelector(inner), rangeMs: this.duration(durationNode), pos };
  }

  private offsetExpr(node: SyntaxNode): Expr {
    const [targetNode, , durationNode] = exprChildren(node);
    const target = this.expr(targetNode);
    this.applyOffset(target, this.offsetDuration(durationNode), node.from);
    return target;
  }

  /**
   * In 2.42 `offset` binds to the expression right before it (`a or b offset 5m` offsets
   * only b); lezer's grammar attaches it to the whole preceding binary or unary
   * expression instead, so it is pushed down to the rightmost operand here.
   */
  private applyOffset(target: Expr, offsetMs: number, at: number): void {
    if (target.kind === 'binary') return this.applyOffset(target.rhs, offsetMs, at);
    if (target.kind === 'unary') return this.applyOffset(target.expr, offsetMs, at);
    const selector = target.kind === 'vectorSelector' ? target : target.kind === 'matrixSelector' ? target.selector : undefined;
    if (!selector) {
      throw parseError(
        this.query,
        target.pos.start,
        'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
    }
    if (selector.offsetMs !== 0) throw parseError(this.query, target.pos.start, 'offset may not be set multiple times');
    selector.offsetMs = offsetMs;
  }

  /** `offset 5m` or `offset -5m`: 2.42 has no other duration syntax here. */
  private offsetDuration(node: SyntaxNode): number {
    if (/^[0-9.]+$/.test(this.text(node))) {
      throw parseError(this.query, node.from, describeTokenAt(this.query, node.from) + ' in offset, expected duration');
    }
    const parts = exprChildren(node);
    if (parts.length === 1 && parts[0].name === 'NumberDurationLiteralInDurationContext') return this.duration(node);
    const [sign, inner] = parts;
    if (sign?.name === 'UnaryOp' && this.text(sign) === '-' && inner?.name === 'OffsetDurationExpr') {
      const innerParts = exprChildren(inner);
      if (innerParts.length === 1 && innerParts[0].name === 'NumberDurationLiteralInDurationContext') {
        return -this.duration(inner);
      }
    }
    throw this.unexpected(node.from);
  }

  private duration(node: SyntaxNode): number {
    const parts = exprChildren(node);
    if (parts.length !== 1 || parts[0].name !== 'NumberDurationLiteralInDurationContext') throw this.unexpected(node.from);
    const text = this.text(parts[0]);
    const ms = parseDurationMs(text);
    if (typeof ms !== 'number') {
      if (/^[0-9.]+$/.test(text)) throw this.unexpected(node.from);
      throw parseError(this.query, node.from, ms.error);
    }
    if (ms === 0) throw parseError(this.query, node.from, 'duration must be greater than 0');
    return ms;
  }

  private binaryExpr(node: SyntaxNode): Expr {
    const parts = exprChildren(node);
    let lhs = this.expr(parts[0]);
    // lezer reads `-2 ^ 2` as (-2) ^ 2; in 2.42 unary minus binds looser than ^: -(2 ^ 2).
    const signedBase = parts[1].name === 'Pow' && parts[0].name === 'NumberDurationLiteral' ? /^[+-]/.exec(this.text(parts[0])) : null;
    if (signedBase && lhs.kind === 'number') {
      lhs = { ...lhs, value: Math.abs(lhs.value), pos: { start: lhs.pos.start + 1, end: lhs.pos.end } };
      const pow = this.binaryWithLhs(node, parts, lhs);
      return { kind: 'unary', op: signedBase[0] === '-' ? '-' : '+', expr: pow, pos: pow.pos };
    }
    return this.binaryWithLhs(node, parts, lhs);
  }

  private binaryWithLhs(node: SyntaxNode, parts: SyntaxNode[], lhs: Expr): BinaryExpr {
    const rhs = this.expr(parts[parts.length - 1]);
    const op = BINARY_OPS[parts[1].name];
    if (!op) throw this.unexpected(parts[1].from);
    let returnBool = false;
    let matching: VectorMatching = { card: SET_OPS.has(op) ? 'many-to-many' : 'one-to-one', on: false, labels: [] };
    let matchingWritten = false;
    for (const modifier of parts.slice(2, -1)) {
      if (modifier.name === 'BoolModifier') returnBool = true;
      else if (modifier.name === 'MatchingModifierClause') {
        matching = { ...matching, ...this.matchingClause(modifier) };
        matchingWritten = true;
      } else throw this.unexpected(modifier.from);
    }
    const pos = { start: node.from, end: node.to };
    const bothVectors = typeOf(lhs) === 'vector' && typeOf(rhs) === 'vector';
    if (!bothVectors && matchingWritten && matching.labels.length > 0) {
      throw parseError(this.query, pos.start, 'vector matching only allowed between instant vectors');
    }
    return { kind: 'binary', op, lhs, rhs, returnBool, matching: bothVectors ? matching : undefined, pos };
  }

  private matchingClause(node: SyntaxNode): Pick<VectorMatching, 'on' | 'labels'> {
    const parts = exprChildren(node);
    const grouping = parts.find((p) => p.name === 'GroupLeft' || p.name === 'GroupRight');
    if (grouping) {
      throw badData(
        `unsupported vector matching modifier ${JSON.stringify(this.text(grouping))}: only one-to-one matching (on/ignoring) is supported`,
      );
    }
    return { on: parts[0].name === 'On', labels: this.groupingLabels(parts[1]) };
  }

  private groupingLabels(node: SyntaxNode): string[] {
    return exprChildren(node).map((c) => {
      if (c.name !== 'LabelName') throw this.unexpected(c.from);
      return this.text(c);
    });
  }

  private aggregateExpr(node: SyntaxNode): AggregateExpr {
    const pos = { start: node.from, end: node.to };
    let op = '';
    let grouping: string[] = [];
    let without = false;
    let args: SyntaxNode[] = [];
    for (const c of exprChildren(node)) {
      if (c.name === 'AggregateOp') op = this.text(c).toLowerCase();
      else if (c.name === 'AggregateModifier') {
        const [kind, labels] = exprChildren(c);
        without = kind.name === 'Without';
        grouping = this.groupingLabels(labels);
      } else if (c.name === 'FunctionCallBody') args = exprChildren(c);
    }
    if (!AGGREGATE_OPS.has(op)) throw parseError(this.query, node.from, `unknown function with name ${JSON.stringify(op)}`);
    if (args.length === 0) throw parseError(this.query, node.from, 'no arguments for aggregate expression provided');
    const wanted = AGGREGATES_WITH_PARAM.has(op) ? 2 : 1;
    if (args.length !== wanted) {
      throw parseError(
        this.query,
        node.from,
        `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`,
      );
    }
    const exprs = args.map((a) => this.expr(a));
    return {
      kind: 'aggregate',
      op: op as AggregateOp,
      expr: exprs[wanted - 1],
      param: wanted === 2 ? exprs[0] : undefined,
      grouping,
      without,
      pos,
    };
  }

  private call(node: SyntaxNode): Call {
    const [identifier, body] = exprChildren(node);
    const name = this.text(identifier);
    // `start` and `end` are keywords (of the @ modifier) in 2.42, never function names.
    if (name === 'start' || name === 'end') throw parseError(this.query, body.from, 'unexpected "("');
    if (!(name in PROMETHEUS_FUNCTIONS)) {
      throw parseError(this.query, node.from, `unknown function with name ${JSON.stringify(name)}`);
    }
    if (!isSupportedFunction(name)) throw badData(`unsupported function ${JSON.stringify(name)}`);
    const args = exprChildren(body).map((a) => this.expr(a));
    return { kind: 'call', func: name, args, pos: { start: node.from, end: node.to } };
  }

  private only(node: SyntaxNode): SyntaxNode {
    const children = exprChildren(node);
    if (children.length !== 1) throw this.unexpected(node.from);
    return children[0];
  }

  /** Where the first token that Prometheus 2.42 would not accept starts. */
  private newerSyntaxStart(node: SyntaxNode): number {
    const last = node.lastChild;
    return last && last.from > node.from ? last.from : node.from;
  }

  private unexpected(at: number): PromQLError {
    return parseError(this.query, at, describeTokenAt(this.query, at));
  }

  private text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }
}

/** The type checks of Prometheus' parser (checkAST), with its wording. */
class Checker {
  constructor(private readonly query: string) {}

  check(e: Expr): void {
    switch (e.kind) {
      case 'number':
      case 'string':
      case 'matrixSelector':
        if (e.kind === 'matrixSelector') this.check(e.selector);
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

  private expectType(e: Expr, want: ReturnType<typeof typeOf>, context: string): void {
    this.check(e);
    const got = typeOf(e);
    if (got !== want) this.fail(e.pos, `expected type ${documentedType(want)} in ${context}, got ${documentedType(got)}`);
  }

  private fail(pos: PositionRange, message: string): never {
    throw parseError(this.query, pos.start, message);
  }
}
