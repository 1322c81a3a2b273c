import { parseDurationMs } from './duration.ts';
import { goParseFloat, goParseIntBase0 } from './gostrconv.ts';

/**
 * The errors Prometheus 2.42's lexer raises on its own (promql/parser/lex.go) before
 * any grammar rule sees the input: unbalanced parentheses, brackets and braces, bad
 * numbers and durations, unterminated strings, bad escapes, stray characters. lezer
 * reports such places as generic syntax errors; this scan, a port of the lexer's state
 * machine that only tracks errors, recovers Prometheus' wording and position.
 */
export interface LexError {
  pos: number;
  message: string;
}

export function firstLexError(query: string): LexError | undefined {
  return new ErrorLexer(query).run();
}

const EOF = '';

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string) => c >= '0' && c <= '9' && c.length === 1;
const isAlpha = (c: string) => c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlphaNumeric = (c: string) => isAlpha(c) || isDigit(c);

/** Go's %q for a rune: 'x', with Go escapes. */
function quoteRune(c: string): string {
  const escapes: Record<string, string> = { "'": "\\'", '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  return `'${escapes[c] ?? c}'`;
}

/** Go's %#U: U+0063 'c'. */
function unicodeRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

class LexFailure extends Error {
  constructor(readonly lexError: LexError) {
    super(lexError.message);
  }
}

class ErrorLexer {
  private pos = 0;
  private start = 0;
  private parenDepth = 0;
  private bracketOpen = false;
  private braceOpen = false;
  private gotColon = false;
  private lastWord = '';

  constructor(private readonly input: string) {}

  run(): LexError | undefined {
    try {
      while (this.step()) {
        // Each step lexes one token.
      }
      return undefined;
    } catch (e) {
      if (e instanceof LexFailure) return e.lexError;
      throw e;
    }
  }

  private next(): string {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1;
      return EOF;
    }
    const cp = this.input.codePointAt(this.pos)!;
    const c = String.fromCodePoint(cp);
    this.pos += c.length;
    return c;
  }

  private backup(c: string): void {
    this.pos -= c === EOF ? 1 : c.length;
  }

  private peek(): string {
    const c = this.next();
    this.backup(c);
    return c;
  }

  private accept(valid: string): boolean {
    const c = this.next();
    if (c !== EOF && valid.includes(c)) return true;
    this.backup(c);
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid)) {
      // Absorb.
    }
  }

  private fail(message: string, pos = this.start): never {
    throw new LexFailure({ pos, message });
  }

  /** Lexes one token; false at the end of input. */
  private step(): boolean {
    this.start = this.pos;
    return this.braceOpen ? this.insideBraces() : this.statements();
  }

  private statements(): boolean {
    if (this.input.startsWith('#', this.pos)) return this.lineComment();
    const r = this.next();
    if (isSpace(r)) return true;
    const word = this.lastWord;
    this.lastWord = '';
    if (r === EOF) {
      if (this.parenDepth !== 0) this.fail('unclosed left parenthesis');
      if (this.bracketOpen) this.fail('unclosed left bracket');
      return false;
    }
    if (',*/%+-^@'.includes(r)) {
      if (r === '-' && word === 'offset') this.lastWord = 'offset';
      return true;
    }
    switch (r) {
      case '=':
        if (this.peek() === '=') this.next();
        else if (this.peek() === '~') this.fail(`unexpected character after '=': ${quoteRune('~')}`);
        return true;
      case '!':
        if (this.next() !== '=') this.fail(`unexpected character after '!': ${quoteRune(this.input[this.pos - 1] ?? '')}`);
        return true;
      case '<':
      case '>':
        if (this.peek() === '=') this.next();
        return true;
      case '"':
      case "'":
        return this.string(r);
      case '`':
        return this.rawString();
      case '(':
        this.parenDepth++;
        return true;
      case ')':
        if (--this.parenDepth < 0) this.fail(`unexpected right parenthesis ${quoteRune(')')}`, this.pos);
        return true;
      case '{':
        this.braceOpen = true;
        return true;
      case '[':
        return this.leftBracket();
      case ']':
        if (!this.bracketOpen) this.fail(`unexpected right bracket ${quoteRune(']')}`);
        this.bracketOpen = false;
        return true;
    }
    if (isDigit(r) || (r === '.' && isDigit(this.peek()))) {
      this.backup(r);
      return this.numberOrDuration(word === 'offset' || (this.bracketOpen && this.gotColon));
    }
    if (isAlpha(r) || r === ':') {
      if (!this.bracketOpen) {
        while (isAlphaNumeric(this.peek()) || this.peek() === ':') this.next();
        this.lastWord = this.input.slice(this.start, this.pos).toLowerCase();
        return true;
      }
      if (this.gotColon) this.fail(`unexpected colon ${quoteRune(r)}`);
      this.gotColon = true;
      return true;
    }
    this.fail(`unexpected character: ${quoteRune(r)}`);
  }

  private insideBraces(): boolean {
    if (this.input.startsWith('#', this.pos)) return this.lineComment();
    const r = this.next();
    if (r === EOF) this.fail('unexpected end of input inside braces');
    if (isSpace(r) || r === ',') return true;
    if (isAlpha(r)) {
      while (isAlphaNumeric(this.peek())) this.next();
      return true;
    }
    switch (r) {
      case '"':
      case "'":
        return this.string(r);
      case '`':
        return this.rawString();
      case '=':
        this.accept('~');
        return true;
      case '!': {
        const nr = this.next();
        if (nr !== '~' && nr !== '=') this.fail(`unexpected character after '!' inside braces: ${quoteRune(nr)}`);
        return true;
      }
      case '{':
        this.fail(`unexpected left brace ${quoteRune(r)}`);
        break;
      case '}':
        this.braceOpen = false;
        return true;
    }
    this.fail(`unexpected character inside braces: ${quoteRune(r)}`);
  }

  private lineComment(): boolean {
    while (this.pos < this.input.length && this.input[this.pos] !== '\n') this.pos++;
    return true;
  }

  private leftBracket(): boolean {
    if (this.bracketOpen) this.fail(`unexpected left bracket ${quoteRune('[')}`);
    this.gotColon = false;
    while (isSpace(this.peek())) this.next();
    this.start = this.pos;
    this.bracketOpen = true;
    if (this.scanNumber()) this.fail('missing unit character in duration');
    if (!this.acceptRemainingDuration()) this.fail(`bad duration syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
    this.checkDuration();
    return true;
  }

  /** A number, or a duration where one is expected (`offset 5m`, a subquery step). */
  private numberOrDuration(durationExpected: boolean): boolean {
    if (this.scanNumber()) {
      this.checkNumber();
      return true;
    }
    if (this.acceptRemainingDuration()) {
      if (durationExpected) this.checkDuration();
      return true;
    }
    this.fail(`bad number or duration syntax: ${JSON.stringify(this.input.slice(this.start, this.pos))}`);
  }

  /** The parser reads a NUMBER token with strconv.ParseInt(s, 0, 64), then ParseFloat. */
  private checkNumber(): void {
    const text = this.input.slice(this.start, this.pos);
    if (goParseIntBase0(text) !== undefined || goParseFloat(text) !== undefined) return;
    const reason = Number(text) === Infinity ? 'value out of range' : 'invalid syntax';
    this.fail(`error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(text)}: ${reason}`);
  }

  /** The parser reads a DURATION token with model.ParseDuration. */
  private checkDuration(): void {
    const text = this.input.slice(this.start, this.pos);
    const ms = parseDurationMs(text);
    if (typeof ms !== 'number') this.fail(ms.error);
  }

  private scanNumber(): boolean {
    let digits = '0123456789';
    if (this.accept('0') && this.accept('xX')) digits = '0123456789abcdefABCDEF';
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789');
    }
    return !isAlphaNumeric(this.peek());
  }

  private acceptRemainingDuration(): boolean {
    if (!this.accept('smhdwy')) return false;
    this.accept('s');
    while (this.accept('0123456789')) {
      this.acceptRun('0123456789');
      if (!this.accept('smhdw')) return false;
      this.accept('s');
    }
    // The lexer reads one more rune; only a failure keeps it in the reported text.
    if (!isAlphaNumeric(this.peek())) return true;
    this.next();
    return false;
  }

  private string(quote: string): boolean {
    for (;;) {
      const c = this.next();
      if (c === '\\') this.escape(quote);
      else if (c === EOF || c === '\n') this.fail('unterminated quoted string');
      else if (c === quote) return true;
    }
  }

  private rawString(): boolean {
    for (;;) {
      const c = this.next();
      if (c === EOF) this.fail('unterminated raw string');
      if (c === '`') return true;
    }
  }

  private escape(quote: string): void {
    let ch = this.next();
    let n: number;
    let base: number;
    let max: number;
    if ('abfnrtv\\'.includes(ch) && ch !== EOF) return;
    if (ch === quote) return;
    if (ch >= '0' && ch <= '7' && ch.length === 1) {
      [n, base, max] = [3, 8, 255];
    } else if (ch === 'x' || ch === 'u' || ch === 'U') {
      [n, base, max] = ch === 'x' ? [2, 16, 255] : ch === 'u' ? [4, 16, 0x10ffff] : [8, 16, 0x10ffff];
      ch = this.next();
    } else if (ch === EOF) {
      this.fail('escape sequence not terminated');
    } else {
      this.fail(`unknown escape sequence ${unicodeRune(ch)}`);
    }
    let x = 0;
    while (n > 0) {
      const d = digitValue(ch);
      if (d >= base) {
        if (ch === EOF) this.fail('escape sequence not terminated');
        this.fail(`illegal character ${unicodeRune(ch)} in escape sequence`);
      }
      x = x * base + d;
      n--;
      if (n > 0) ch = this.next();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) this.fail('escape sequence is an invalid Unicode code point');
  }
}

function digitValue(ch: string): number {
  if (ch >= '0' && ch <= '9' && ch.length === 1) return ch.charCodeAt(0) - 48;
  if (ch >= 'a' && ch <= 'f' && ch.length === 1) return ch.charCodeAt(0) - 87;
  if (ch >= 'A' && ch <= 'F' && ch.length === 1) return ch.charCodeAt(0) - 55;
  return 16;
}
