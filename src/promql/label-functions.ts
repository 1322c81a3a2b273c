import { RE2JS } from 're2js';
import { checkRegexCost } from '../index/matcher.ts';
import { executionError } from './errors.ts';
import { compareStrings, labelsKey, setLabel, type Labels } from './labels.ts';
import { mapVector } from './map-vector.ts';
import type { Grid, StepSeries } from './vector.ts';

/** model.LabelName.IsValid. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * label_replace(v, dst, replacement, src, regex): where the fully anchored regex matches
 * the src label's value, dst becomes the replacement with $1, ${name}… expanded (an empty
 * result removes dst); other series pass unchanged. The metric name stays.
 */
export function labelReplace(input: readonly StepSeries[], grid: Grid, dst: string, replacement: string, src: string, regex: string): StepSeries[] {
  let re: RE2JS;
  try {
    checkRegexCost(regex);
    re = RE2JS.compile(`^(?:${regex})$`);
  } catch {
    throw executionError(`invalid regular expression in label_replace(): ${regex}`);
  }
  if (!LABEL_NAME.test(dst)) throw executionError(`invalid destination label name in label_replace(): ${dst}`);
  const names = re.namedGroups() as Record<string, number>;
  const relabel = (labels: Labels): Labels => {
    const m = re.matcher(labels.find((l) => l.name === src)?.value ?? '');
    if (!m.matches()) return labels;
    return setLabel(labels, dst, expandTemplate(replacement, (group) => {
      const index = typeof group === 'number' ? group : names[group];
      return index === undefined || index > m.groupCount() ? '' : (m.group(index) ?? '');
    }));
  };
  return mapVector(input, grid, relabel, (v) => v);
}

/** label_join(v, dst, separator, src...): dst becomes the src labels' values joined. */
export function labelJoin(input: readonly StepSeries[], grid: Grid, dst: string, separator: string, sources: string[]): StepSeries[] {
  for (const src of sources) {
    if (!LABEL_NAME.test(src)) throw executionError(`invalid source label name in label_join(): ${src}`);
  }
  if (!LABEL_NAME.test(dst)) throw executionError(`invalid destination label name in label_join(): ${dst}`);
  const relabel = (labels: Labels): Labels =>
    setLabel(labels, dst, sources.map((src) => labels.find((l) => l.name === src)?.value ?? '').join(separator));
  return mapVector(input, grid, relabel, (v) => v);
}

/**
 * Go's Regexp.Expand: `$$` is a dollar, `$name`/`${name}` a group by number or name (the
 * longest run of letters, digits and `_`), an unknown group the empty string, and a `$`
 * not followed by a name stays as it is.
 */
export function expandTemplate(template: string, group: (ref: number | string) => string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const m = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (!m) {
      out += '$';
      continue;
    }
    rest = rest.slice(m[0].length);
    const name = m[1] ?? m[2];
    const isNumber = /^[0-9]+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length <= 8;
    out += group(isNumber ? Number(name) : name);
  }
  return out + rest;
}

/** The labels absent() gives its sample: the selector's equality matchers, as 2.42 builds them. */
export function absentLabels(matchers: readonly { name: string; op: string; value: string }[] | undefined): Labels {
  const labels = new Map<string, string>();
  const seen = new Set<string>();
  for (const m of matchers ?? []) {
    if (m.name === '__name__') continue;
    if (m.op === '=' && !seen.has(m.name)) {
      if (m.value === '') labels.delete(m.name);
      else labels.set(m.name, m.value);
      seen.add(m.name);
    } else {
      // A name matched twice, or not by equality, cannot be known: it is left out.
      labels.delete(m.name);
    }
  }
  return [...labels].map(([name, value]) => ({ name, value })).sort((a, b) => compareStrings(a.name, b.name));
}

/** One series valued 1 at the given steps (absent, absent_over_time). */
export function onesAt(labels: Labels, steps: number[]): StepSeries[] {
  if (steps.length === 0) return [];
  return [{ labels, key: labelsKey(labels), steps: Int32Array.from(steps), values: new Float64Array(steps.length).fill(1) }];
}
