/**
 * The errors Prometheus 2.42's lexer raises on its own (promql/parser/lex.go), before any
 * grammar rule sees the input: unbalanced parentheses, brackets and braces, unterminated
 * strings, stray characters. lezer reports these places as generic syntax errors; this
 * scan recovers Prometheus' wording and position for them.
 */
export interface LexError {
  pos: number;
  message: string;
}

export function firstLexError(q: string): LexError | undefined {
  let parenDepth = 0;
  let bracketOpen = false;
  let braceOpen = false;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '#') {
      while (i < q.length && q[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(q, i);
      if (end < 0) return { pos: i, message: c === '`' ? 'unterminated raw string' : 'unterminated quoted string' };
      i = end;
      continue;
    }
    if (braceOpen) {
      if (c === '}') braceOpen = false;
      else if (c === '{') return { pos: i, message: "unexpected left brace '{'" };
      continue;
    }
    switch (c) {
      case '(':
        parenDepth++;
        break;
      case ')':
        if (--parenDepth < 0) return { pos: i + 1, message: "unexpected right parenthesis ')'" };
        break;
      case '[':
        if (bracketOpen) return { pos: i, message: "unexpected left bracket '['" };
        bracketOpen = true;
        break;
      case ']':
        if (!bracketOpen) return { pos: i, message: "unexpected right bracket ']'" };
        bracketOpen = false;
        break;
      case '{':
        braceOpen = true;
        break;
      case '}':
        return { pos: i, message: "unexpected character: '}'" };
      case '=':
        if (q[i + 1] === '~') return { pos: i, message: "unexpected character after '=': '~'" };
        if (q[i + 1] === '=') i++;
        break;
      case '!':
        if (q[i + 1] !== '=') return { pos: i, message: `unexpected character after '!': '${q[i + 1] ?? ''}'` };
        i++;
        break;
    }
  }
  if (braceOpen) return { pos: q.length, message: 'unexpected end of input inside braces' };
  if (parenDepth > 0) return { pos: q.length, message: 'unclosed left parenthesis' };
  if (bracketOpen) return { pos: q.length, message: 'unclosed left bracket' };
  return undefined;
}

/** Index of the quote closing the string opened at `start`, or -1. */
function stringEnd(q: string, start: number): number {
  const quote = q[start];
  for (let i = start + 1; i < q.length; i++) {
    const c = q[i];
    if (quote !== '`' && c === '\\') {
      i++;
      continue;
    }
    if (quote !== '`' && c === '\n') return -1;
    if (c === quote) return i;
  }
  return -1;
}
