/** Schemas of the event tables; `ts` and `expiry` are implicit in every table. */
import type { ColumnSpec } from './row-table.ts';

export const SPAN_EVENT_KIND = { start: 1, end: 2 } as const;
export const SPAN_STATUS_CODE = { ok: 1, error: 2 } as const;

export const SPAN_EVENT_COLUMNS: ColumnSpec[] = [
  { name: 'kind', kind: 'u8' },
  { name: 'trace_id', kind: 'dict' },
  { name: 'span_id', kind: 'dict' },
  { name: 'parent_span_id', kind: 'dict' },
  { name: 'name', kind: 'dict' },
  { name: 'status', kind: 'u8' },
  { name: 'attributes', kind: 'str' },
];

export const LOG_COLUMNS: ColumnSpec[] = [
  { name: 'trace_id', kind: 'dict' },
  { name: 'span_id', kind: 'dict' },
  { name: 'severity', kind: 'dict' },
  { name: 'message', kind: 'str' },
  { name: 'attributes', kind: 'str' },
];
