/**
 * Rebuilds the span index from span-event segments loaded at start: their rows are fed
 * through the index in row order, which is the order the events were first applied in,
 * so assembly (duplicate starts, ends before starts, attribute merges) comes out the same.
 */
import type { Attributes, SpanIndex } from '../index/spans.ts';
import type { RowSegment } from './row-segment.ts';
import { SPAN_EVENT_KIND, SPAN_STATUS_CODE } from './tables.ts';

export function refeedSpanEvents(segments: readonly RowSegment[], spans: SpanIndex): number {
  let fed = 0;
  for (const seg of segments) {
    const ts = seg.f64('ts'), expiry = seg.f64('expiry');
    for (let i = 0; i < seg.rows; i++) {
      const traceId = seg.get(i, 'trace_id') as string, spanId = seg.get(i, 'span_id') as string;
      const attributes = parseAttributes(seg.get(i, 'attributes'));
      if (seg.get(i, 'kind') === SPAN_EVENT_KIND.start) {
        spans.addStart({
          traceId, spanId, ts: ts[i], expiry: expiry[i], attributes,
          parentSpanId: seg.get(i, 'parent_span_id') as string | undefined, name: (seg.get(i, 'name') as string | undefined) ?? '',
        });
      } else {
        const status = seg.get(i, 'status') === SPAN_STATUS_CODE.error ? 'error' : 'ok';
        spans.addEnd({ traceId, spanId, ts: ts[i], expiry: expiry[i], status, attributes });
      }
      fed++;
    }
  }
  return fed;
}

function parseAttributes(json: number | string | undefined): Attributes | undefined {
  return typeof json === 'string' ? (JSON.parse(json) as Attributes) : undefined;
}
