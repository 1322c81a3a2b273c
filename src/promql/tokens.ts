import { parseDurationMs } from './duration.ts';
import { goQuote } from './gostrconv.ts';

const AGGREGATORS = new Set(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'count_values', 'quantile']);
const WORD_OPERATORS = new Set(['and', 'or', 'unless', 'atan2']);
const KEYWORDS = new Set(['bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'start', 'end']);
const OPERATORS = ['==', '!=', '>=', '<=', '=~', '!~', '+', '-', '*', '/', '%', '^', '>', '<', '@'];
const PUNCTUATION = new Set(['(', ')', '{', '}', '[', ']', ',', ':', '=']);

/**
 * Describes the token starting at `pos` the way Prometheus' parser names an unexpected
 * item (`unexpected identifier "foo"`, `unexpected <op:+>`, `unexpected end of input`),
 * so syntax errors found by the lezer grammar read like Prometheus' own.
 */
export function describeTokenAt(query: string, pos: number): string {
  let i = pos;
  while (i < query.length && /\s/.test(query[i])) i++;
  if (i >= query.length) return 'unexpected end of input';
  const rest = query.slice(i);
  const c = rest[0];

  const word = /^[A-Za-z_][A-Za-z0-9_:]*/.exec(rest)?.[0];
  if (word) {
    const lower = word.toLowerCase();
    if (AGGREGATORS.has(lower)) return `unexpected <aggr:${word}>`;
    if (WORD_OPERATORS.has(lower)) return `unexpected <op:${word}>`;
    if (KEYWORDS.has(lower)) return `unexpected <${word}>`;
    if (lower === 'inf' || lower === 'nan') return `unexpected number ${goQuote(word)}`;
    return `unexpected ${word.includes(':') ? 'metric identifier' : 'identifier'} ${goQuote(word)}`;
  }
  const numeric = /^(?:[0-9]|\.[0-9])[0-9A-Za-z._]*/.exec(rest)?.[0];
  if (numeric) {
    const kind = typeof parseDurationMs(numeric) === 'number' && /[a-z]/.test(numeric) ? 'duration' : 'number';
    return `unexpected ${kind} ${goQuote(numeric)}`;
  }
  if (c === '"' || c === "'" || c === '`') {
    const end = rest.indexOf(c, 1);
    const text = end < 0 ? rest : rest.slice(0, end + 1);
    const runes = [...text];
    return `unexpected string ${runes.length > 10 ? goQuote(runes.slice(0, 10).join('')) + '...' : goQuote(text)}`;
  }
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (op) return `unexpected <op:${op}>`;
  if (PUNCTUATION.has(c)) return `unexpected ${goQuote(c)}`;
  const rune = String.fromCodePoint(rest.codePointAt(0)!);
  return `unexpected character: '${rune === "'" ? "\\'" : rune}'`;
}
