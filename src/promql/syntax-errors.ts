import type { SyntaxNode } from '@lezer/common';
import { PromQLError, badData, parseError } from './errors.ts';
import { PROMETHEUS_FUNCTIONS } from './signatures.ts';
import { describeTokenAt } from './tokens.ts';

/**
 * Turns the first error node of lezer's error-tolerant parse into the message Prometheus'
 * yacc grammar would give at that place.
 */
export function firstErrorNode(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type.isError) return node;
  for (let c = node.firstChild; c; c = c.nextSibling) {
    const found = firstErrorNode(c);
    if (found) return found;
  }
  return undefined;
}

export function syntaxErrorAt(query: string, node: SyntaxNode): PromQLError {
  // lezer reads `f(x)` with an unknown `f` as a selector followed by junk at "(".
  if (query[node.from] === '(') {
    const name = /([A-Za-z_][A-Za-z0-9_:]*)\s*$/.exec(query.slice(0, node.from));
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
