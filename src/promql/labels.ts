import { goQuote } from './gostrconv.ts';

/**
 * Label sets as Prometheus' model/labels holds them: sorted by name, no empty values
 * (a label with an empty value is the same as an absent one).
 */
export interface Label {
  readonly name: string;
  readonly value: string;
}
export type Labels = readonly Label[];

export const METRIC_NAME = '__name__';
export const BUCKET_LABEL = 'le';

export function labelsFromRecord(record: Record<string, string>): Labels {
  const out: Label[] = [];
  for (const name in record) {
    const value = record[name];
    if (value !== '' && value !== undefined) out.push({ name, value });
  }
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** A string identifying the label set; equal sets give equal keys. */
export function labelsKey(labels: Labels): string {
  // Joined, not `+=`: keys are cached per series (selectors.ts), and a concatenation stays a
  // tree of string objects (about ten per key) that every full GC of the main heap marks.
  const parts: string[] = new Array(labels.length * 4);
  for (let i = 0; i < labels.length; i++) {
    parts[4 * i] = labels[i]!.name;
    parts[4 * i + 1] = '\u0000';
    parts[4 * i + 2] = labels[i]!.value;
    parts[4 * i + 3] = '\u0001';
  }
  return parts.join('');
}

export function dropMetricName(labels: Labels): Labels {
  return labels.some((l) => l.name === METRIC_NAME) ? labels.filter((l) => l.name !== METRIC_NAME) : labels;
}

/** Returns labels with `name` set to `value` (removed when value is empty), still sorted. */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const out = labels.filter((l) => l.name !== name);
  if (value !== '') {
    out.push({ name, value });
    out.sort((a, b) => compareStrings(a.name, b.name));
  }
  return out;
}

/** labels.Compare: pairwise by name then value, then by length. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const byName = compareStrings(a[i].name, b[i].name);
    if (byName !== 0) return byName;
    const byValue = compareStrings(a[i].value, b[i].value);
    if (byValue !== 0) return byValue;
  }
  return a.length - b.length;
}

/**
 * Orders strings as Go does (by UTF-8 bytes, i.e. by code point). JavaScript's `<` orders
 * by UTF-16 units, which differs only for astral characters against U+E000..U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return codePointRank(ca) - codePointRank(cb);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** labels.String(): `{a="1", b="2"}`, as Prometheus prints label sets in error messages. */
export function formatLabels(labels: Labels): string {
  return '{' + labels.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ') + '}';
}
