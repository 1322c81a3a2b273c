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
      return { ...m, matches: (v) => re.matches(v) !== negate };
    }
    default:
      throw new MatcherError(`unknown matcher operator ${JSON.stringify((m as Matcher).op)}`);
  }
}

export class MatcherError extends Error {}

function compileAnchored(pattern: string): RE2JS {
  try {
    // As Prometheus 2.42 (labels.NewFastRegexMatcher): no (?s), so `.` does not match a newline.
    return RE2JS.compile(`^(?:${pattern})$`);
  } catch (e) {
    throw new MatcherError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}
