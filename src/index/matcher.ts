import { RE2JS } from 're2js';

/** A Prometheus label matcher: the four operators of model/labels/matcher.go. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

/** A matcher compiled to a predicate on one label value ('' when the series lacks the label). */
export interface CompiledMatcher extends Matcher {
  matches(labelValue: string): boolean;
}

/**
 * Compiles a matcher. Regexes are RE2 (linear time, no backtracking blow-up) and fully
 * anchored as Prometheus anchors them: `=~"a|b"` means `^(?:a|b)$`.
 */
export function compileMatcher(m: Matcher): CompiledMatcher {
  switch (m.op) {
    case '=':
      return { ...m, matches: (v) => v === m.value };
    case '!=':
      return { ...m, matches: (v) => v !== m.value };
    case '=~':
    case '!~': {
      const re = compileAnchored(m.value);
      const negate = m.op === '!~';
      // RE2 is linear in the value, but with a factor of the program's size: a budget bounds the whole selection.
      let spentMs = 0;
      const maxValueLength = Math.floor(MAX_REGEX_WORK / re.programSize());
      return {
        ...m,
        matches: (v) => {
          if (v.length > maxValueLength) {
            throw new MatcherError(`regular expression ${quotePattern(m.value)} is too expensive for a label value of ${v.length} characters: its ${re.programSize()}-instruction program may match values up to ${maxValueLength} characters; simplify it`);
          }
          const started = performance.now();
          const matched = re.matches(v) !== negate;
          spentMs += performance.now() - started;
          if (spentMs > REGEX_TIME_BUDGET_MS) {
            throw new MatcherError(`regular expression ${quotePattern(m.value)} is too expensive: matching label values took more than ${REGEX_TIME_BUDGET_MS / 1000} s; simplify it or narrow the selection with other matchers`);
          }
          return matched;
        },
      };
    }
    default:
      throw new MatcherError(`unknown matcher operator ${JSON.stringify((m as Matcher).op)}`);
  }
}

/** A 400 wherever it surfaces: the server answers anything with a status and a detail as that status. */
export class MatcherError extends Error {
  readonly status = 400;
  get detail(): string {
    return this.message;
  }
}

/**
 * Bounds on a regex matcher's cost (hostile input). RE2 never backtracks, but compiling and
 * matching both scale with the size of the compiled program, which counted repetitions
 * multiply (`[a-z]{0,1000}` is 2,000 instructions; `(.*a){1000}` takes seconds on a 1 KiB
 * value). So: the source's length, the program's size, the product of the program's size and
 * a value's length (one match cannot be interrupted), and the total time one selection may
 * spend matching are capped; past a cap the matcher is refused with a MatcherError (a 400).
 */
export const MAX_REGEX_LENGTH = 16 * 1024;
export const MAX_REGEX_PROGRAM = 20_000;
export const REGEX_TIME_BUDGET_MS = 2000;
/** Program size × value length one match may cost (one match cannot be interrupted; ~2 s at the worst). */
export const MAX_REGEX_WORK = 8_000_000;

function compileAnchored(pattern: string): RE2JS {
  checkRegexCost(pattern);
  let re: RE2JS;
  try {
    // As Prometheus 2.42 (labels.NewFastRegexMatcher): no (?s), so `.` does not match a newline.
    re = RE2JS.compile(`^(?:${pattern})$`);
  } catch (e) {
    throw new MatcherError(`invalid regular expression ${quotePattern(pattern)}: ${(e as Error).message}`);
  }
  if (re.programSize() > MAX_REGEX_PROGRAM) {
    throw new MatcherError(`regular expression ${quotePattern(pattern)} is too complex: it compiles to ${re.programSize()} instructions, more than ${MAX_REGEX_PROGRAM}`);
  }
  return re;
}

/**
 * Refuses, before compiling it, a regex whose program would be too large to compile quickly:
 * longer than MAX_REGEX_LENGTH, or with counted repetitions expanding past MAX_REGEX_PROGRAM.
 */
export function checkRegexCost(pattern: string): void {
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw new MatcherError(`regular expression of ${pattern.length} characters is too long: the limit is ${MAX_REGEX_LENGTH}`);
  }
  const size = estimateProgramSize(pattern);
  if (size > MAX_REGEX_PROGRAM) {
    throw new MatcherError(`regular expression ${quotePattern(pattern)} is too complex: its repetitions expand to about ${size} instructions, more than ${MAX_REGEX_PROGRAM}`);
  }
}

/**
 * An upper estimate of the compiled program's size, from the source alone: every atom (a
 * character, an escape, a class, a group) costs its size, operators and alternatives one, and
 * `{n}`/`{n,}`/`{n,m}` multiply the atom before them by m (or n + 1). Malformed syntax is
 * left for the compiler to report.
 */
export function estimateProgramSize(pattern: string): number {
  const stack: { total: number; last: number }[] = [];
  let cur = { total: 0, last: 0 };
  const atom = (size: number) => {
    cur.total += size;
    cur.last = size;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const stop = end < 0 ? pattern.length : end;
        for (let j = i + 2; j < stop; j++) atom(1);
        i = end < 0 ? pattern.length : end + 1;
        continue;
      }
      if ((pattern[i + 1] === 'p' || pattern[i + 1] === 'P' || pattern[i + 1] === 'x') && pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        i = end < 0 ? pattern.length : end;
      } else {
        i++;
      }
      atom(1);
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') {
        if (pattern[j] === '\\') j++;
        else if (pattern[j] === '[' && pattern[j + 1] === ':') {
          const end = pattern.indexOf(':]', j + 2);
          if (end >= 0) j = end + 1;
        }
        j++;
      }
      i = j;
      atom(1);
    } else if (c === '(') {
      stack.push(cur);
      cur = { total: 0, last: 0 };
    } else if (c === ')') {
      const inner = cur.total + 2;
      cur = stack.pop() ?? { total: 0, last: 0 };
      atom(inner);
    } else if (c === '|') {
      cur.total += 1;
      cur.last = 0;
    } else if (c === '*' || c === '+' || c === '?') {
      cur.total += 1;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (!m) {
        atom(1);
        continue;
      }
      const n = Number(m[1]);
      const times = m[2] === undefined ? n : m[3] === '' ? n + 1 : Number(m[3]);
      const grown = (cur.last + 1) * Math.max(1, times) + 1;
      cur.total += grown - cur.last;
      cur.last = grown;
      i += m[0].length - 1;
    } else {
      atom(1);
    }
  }
  let total = cur.total;
  while (stack.length > 0) total += stack.pop()!.total;
  return total + 4;
}

function quotePattern(pattern: string): string {
  return JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern);
}
