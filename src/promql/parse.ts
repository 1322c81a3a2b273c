import { parser } from '@prometheus-io/lezer-promql';
import { RE2JS } from 're2js';
import type { SyntaxNode } from '@lezer/common';
import { checkRegexCost, type MatchOp, type Matcher } from '../index/matcher.ts';
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
import { SET_OPS } from './ast.ts';
import { parseDurationMs } from './duration.ts';
import { PromQLError, badData, parseError } from './errors.ts';
import { isSupportedFunction } from './functions.ts';
import { goParseFloat, goParseIntBase0, goUnquote } from './gostrconv.ts';
import { METRIC_NAME } from './labels.ts';
import { PROMETHEUS_FUNCTIONS, typeOf } from './signatures.ts';
import { Checker } from './check.ts';
import { firstLexError } from './lex-errors.ts';
import { firstErrorNode, syntaxErrorAt } from './syntax-errors.ts';
import { describeTokenAt } from './tokens.ts';

/**
 * Parses a PromQL query into our AST with Prometheus 2.42's grammar and checks.
 *
 * The Prometheus project's lezer grammar does the syntax; it is error-tolerant and
 * knows newer syntax (Prometheus 3), so this module turns its first error node into a
 * Prometheus-worded parse error, rejects what 2.42 did not have, and then runs the type
 * checks of 2.42's parser (checkAST). Constructs 2.42 has but strata does not implement
 * (subqueries, `@`, group_left/right, some functions) are `bad_data` errors naming them.
 */
/** Longest PromQL query accepted. */
export const MAX_QUERY_LENGTH = 64 * 1024;

export function parseExpr(query: string): Expr {
  // Hostile input: parsing takes about a second per 60 KiB of deeply nested text.
  if (query.length > MAX_QUERY_LENGTH) throw badData(`query of ${query.length} characters is too long: the limit is ${MAX_QUERY_LENGTH}`);
  const top = parseTree(query);
  const expr = new Converter(query).expr(top);
  new Checker(query).check(expr);
  return expr;
}

/**
 * Parses a series selector such as `up{job=~"api|db"}` (the match[] parameter of
 * /api/v1/series, like Prometheus' ParseMetricSelector) into its matchers, the metric
 * name last. Anything but a plain selector is a parse error.
 */
export function parseMetricSelector(input: string): Matcher[] {
  if (input.length > MAX_QUERY_LENGTH) throw badData(`selector of ${input.length} characters is too long: the limit is ${MAX_QUERY_LENGTH}`);
  const top = parseTree(input);
  if (top.name !== 'VectorSelector') {
    // The selector grammar stops after a metric name (`rate(…`, `a + b`) or at once.
    const first = top.firstChild;
    let at = first && (first.name === 'VectorSelector' || first.name === 'FunctionIdentifier') ? first.to : top.from;
    while (/\s/.test(input[at] ?? '')) at++;
    throw parseError(input, at, describeTokenAt(input, at));
  }
  return new Converter(input).selector(top).matchers;
}

/** The expression node of lezer's parse, or the first lexer or syntax error as Prometheus words it. */
function parseTree(query: string): SyntaxNode {
  if (/^(\s|#[^\n]*)*$/.test(query)) throw parseError(query, 0, 'no expression found in input');
  const tree = parser.parse(forLezer(query));
  const syntaxError = firstErrorNode(tree.topNode);
  const lexError = firstLexError(query);
  // Prometheus' lexer stops at its error before the grammar sees what follows (+1: an
  // unmatched `)` is reported just past itself).
  if (lexError && (!syntaxError || lexError.pos <= syntaxError.from + 1)) {
    throw parseError(query, lexError.pos, lexError.message);
  }
  if (syntaxError) throw syntaxErrorAt(query, syntaxError);
  return exprChildren(tree.topNode)[0];
}

/**
 * Rewrites, keeping every character position, the two places where lezer's grammar
 * (Prometheus 3) cannot read 2.42 syntax: numbers with a trailing dot (`1.`), which become
 * `1 `, and holt_winters (renamed in Prometheus 3), which lezer reads as a call of
 * `rate` padded with spaces; the converter takes function names from the original text.
 * Strings and comments are left alone.
 */
function forLezer(query: string): string {
  return query.replace(
    /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`|#[^\n]*|[A-Za-z_:][A-Za-z0-9_:]*)|(?<![0-9.])([0-9]+)\.(?![0-9A-Za-z_])/g,
    (match, token: string | undefined, digits: string | undefined) => {
      if (token === undefined) return `${digits} `;
      return token === 'holt_winters' ? 'rate'.padEnd(token.length) : match;
    },
  );
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

  selector(node: SyntaxNode): VectorSelector {
    return this.vectorSelector(node);
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
        // Refused before compiling when it would be too costly (src/index/matcher.ts).
        checkRegexCost(matcher.value);
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
    // From the original text: forLezer() may have renamed the function.
    const name = this.query.slice(identifier.from, body.from).trim();
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
