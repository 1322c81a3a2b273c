/**
 * Label sets as Map keys: a string built from (name, value) pairs that no two different
 * sequences share. Parts are separated by `\xff\x00`; a `\xff` inside a part is doubled,
 * so a separator can never be forged by a label value (`{a: "x\xffb"}` vs `{a: "x", b: …}`).
 * The check for `\xff` is one indexOf on a short string: the common case costs nothing.
 */

const ESCAPE = '\xff';
const END = '\xff\x00';

/** One part of a key, followed by its separator. */
export function keyPart(s: string): string {
  return (s.indexOf(ESCAPE) < 0 ? s : s.replaceAll(ESCAPE, ESCAPE + ESCAPE)) + END;
}

/**
 * Key of a label set in the order its properties were given (cheap: no sort). Equal sets
 * given in different orders get different keys, so this suits caches in front of a
 * canonical (sorted) lookup, not identity.
 */
export function insertionOrderKey(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const name in labels) parts.push(keyPart(name), keyPart(labels[name]));
  return parts.join('');
}

/**
 * Keys are built by join, not `+=`: V8 keeps a concatenation as a tree of string objects
 * (one per `+`), and a kept key (a series registry's, for every series) would stay a dozen
 * heap objects that every full GC marks; join makes one flat string.
 */
export function pairsKey(pairs: readonly (readonly [string, string])[]): string {
  const parts: string[] = new Array(pairs.length * 2);
  for (let i = 0; i < pairs.length; i++) {
    parts[2 * i] = keyPart(pairs[i][0]);
    parts[2 * i + 1] = keyPart(pairs[i][1]);
  }
  return parts.join('');
}
