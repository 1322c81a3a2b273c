/**
 * Trace and span ids of metric samples (exemplar links) as codes into a dictionary, so a
 * batch carries each distinct id once: the grouper, the WAL and the head move Uint32Arrays,
 * not a string per sample. Code 0 means "no id"; code k is `dictionary[k - 1]`. One
 * dictionary usually serves every series entry of a batch.
 */
import type { SampleIds } from './events.ts';

/** Assigns codes to ids as they arrive; `dictionary` is the array the codes index (minus one). */
export class IdDictionaryBuilder {
  readonly dictionary: string[] = [];
  private readonly codes = new Map<string, number>();

  /** The id's code (0 for null or ''). */
  code(id: string | null | undefined): number {
    if (!id) return 0;
    let code = this.codes.get(id);
    if (code === undefined) {
      this.dictionary.push(id);
      code = this.dictionary.length;
      this.codes.set(id, code);
    }
    return code;
  }
}

/** Per-sample id strings (the wire's `trace_ids`/`span_ids`, or a WAL record of an earlier version) as codes. */
export function sampleIdsFromStrings(
  length: number, traceIds?: ArrayLike<string | null | undefined>, spanIds?: ArrayLike<string | null | undefined>,
): SampleIds | undefined {
  if (!traceIds && !spanIds) return undefined;
  const builder = new IdDictionaryBuilder();
  const trace = new Uint32Array(length);
  const span = new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    trace[i] = builder.code(traceIds?.[i]);
    span[i] = builder.code(spanIds?.[i]);
  }
  return { dictionary: builder.dictionary, trace, span };
}

/** The id strings of sample i, for readers that want them back (tests, exports). */
export function sampleIdAt(ids: SampleIds, i: number): { traceId: string | null; spanId: string | null } {
  const t = ids.trace[i]!, s = ids.span[i]!;
  return { traceId: t === 0 ? null : ids.dictionary[t - 1]!, spanId: s === 0 ? null : ids.dictionary[s - 1]! };
}
