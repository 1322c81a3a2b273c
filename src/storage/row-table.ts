/**
 * Append-only event tables (span events, logs): rows in arrival order with global row
 * ids, a mutable head of growable columns, sealed into immutable RowSegments. Every
 * table has `ts` and `expiry` columns (µs); the rest is declared by a schema.
 */
import type { Vector } from 'apache-arrow';
import type { Clock } from './clock.ts';
import { GrowableColumn, StringDictionary, f64Column, u8Column, u32Column } from './column.ts';
import { RowSegment, type SealedColumn } from './row-segment.ts';
import type { TableLimits } from './metric-table.ts';

export type ColumnKind = 'f64' | 'u8' | 'dict' | 'str';
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}
export type RowValue = number | string | null | undefined;

type HeadColumn =
  | { kind: 'f64' | 'u8'; values: GrowableColumn<Float64Array | Uint8Array> }
  | { kind: 'dict'; codes: GrowableColumn<Uint32Array>; dict: StringDictionary }
  | { kind: 'str'; strings: (string | null)[] };

export class RowTable {
  readonly columns: ColumnSpec[];
  private head: Map<string, HeadColumn>;
  headRows = 0;
  private headOpenedAt = -1;
  private headMinTs = Infinity;
  private headMaxTs = -Infinity;
  /** Row id of the head's first row: rows are numbered across the table's life. */
  headBase = 0;
  segments: RowSegment[] = [];
  private nextSegmentId = 1;

  constructor(readonly name: string, schema: ColumnSpec[], private readonly limits: TableLimits, private readonly clock: Clock) {
    this.columns = [{ name: 'ts', kind: 'f64' }, { name: 'expiry', kind: 'f64' }, ...schema];
    this.head = this.emptyHead();
  }

  private emptyHead(): Map<string, HeadColumn> {
    const head = new Map<string, HeadColumn>();
    for (const c of this.columns) {
      if (c.kind === 'f64') head.set(c.name, { kind: 'f64', values: f64Column() });
      else if (c.kind === 'u8') head.set(c.name, { kind: 'u8', values: u8Column() });
      else if (c.kind === 'dict') head.set(c.name, { kind: 'dict', codes: u32Column(), dict: new StringDictionary() });
      else head.set(c.name, { kind: 'str', strings: [] });
    }
    return head;
  }

  /** Appends one row (missing columns: 0 / absent) and returns its row id. */
  append(row: Record<string, RowValue>): number {
    for (const [name, col] of this.head) {
      const v = row[name];
      if (col.kind === 'dict') col.codes.push(typeof v === 'string' ? col.dict.encode(v) : 0);
      else if (col.kind === 'str') col.strings.push(typeof v === 'string' ? v : null);
      else col.values.push(typeof v === 'number' ? v : 0);
    }
    const ts = row.ts as number;
    if (this.headRows === 0) this.headOpenedAt = this.clock();
    if (ts < this.headMinTs) this.headMinTs = ts;
    if (ts > this.headMaxTs) this.headMaxTs = ts;
    return this.headBase + this.headRows++;
  }

  shouldSeal(now = this.clock()): boolean {
    return this.headRows >= this.limits.maxHeadRows || (this.headRows > 0 && now - this.headOpenedAt >= this.limits.maxHeadAgeMicros);
  }

  seal(): RowSegment | null {
    if (this.headRows === 0) return null;
    const sealed = new Map<string, SealedColumn>();
    for (const [name, col] of this.head) {
      if (col.kind === 'dict') sealed.set(name, { kind: 'dict', codes: col.codes.snapshot(), values: col.dict.values });
      else if (col.kind === 'str') sealed.set(name, { kind: 'str', strings: col.strings });
      else sealed.set(name, { kind: col.kind, values: col.values.snapshot() } as SealedColumn);
    }
    const segment = new RowSegment(this.nextSegmentId++, this.name, this.headBase, sealed);
    this.segments.push(segment);
    this.headBase += this.headRows;
    this.headRows = 0;
    this.headMinTs = Infinity;
    this.headMaxTs = -Infinity;
    this.head = this.emptyHead();
    return segment;
  }

  /** Adds a segment loaded from disk; row ids continue after it. */
  adopt(segment: RowSegment): void {
    this.segments.push(segment);
    this.segments.sort((a, b) => a.baseRow - b.baseRow);
    this.headBase = Math.max(this.headBase, segment.baseRow + segment.rows);
    if (segment.id >= this.nextSegmentId) this.nextSegmentId = segment.id + 1;
  }

  /** Reads one cell by row id; undefined for an absent value or a dropped row. */
  get(rowId: number, column: string): number | string | undefined {
    if (rowId >= this.headBase) {
      const i = rowId - this.headBase;
      if (i >= this.headRows) return undefined;
      const col = this.head.get(column);
      if (!col) return undefined;
      if (col.kind === 'dict') return col.dict.decode(col.codes.data[i]);
      if (col.kind === 'str') return col.strings[i] ?? undefined;
      return col.values.data[i];
    }
    const seg = this.segmentOf(rowId);
    return seg ? seg.get(rowId - seg.baseRow, column) : undefined;
  }

  num(rowId: number, column: string): number {
    const v = this.get(rowId, column);
    return typeof v === 'number' ? v : NaN;
  }

  /** The segment holding `rowId` (binary search on base rows), or null once dropped. */
  segmentOf(rowId: number): RowSegment | null {
    const segs = this.segments;
    let lo = 0, hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = segs[mid];
      if (rowId < s.baseRow) hi = mid - 1;
      else if (rowId >= s.baseRow + s.rows) lo = mid + 1;
      else return s;
    }
    return null;
  }

  /** Visits the row ids of live rows with minTs <= ts <= maxTs, skipping segments outside the range. */
  scan(minTs: number, maxTs: number, visit: (rowId: number) => void, now = this.clock()): void {
    for (const seg of this.segments) {
      if (seg.maxExpiry <= now || seg.maxTs < minTs || seg.minTs > maxTs) continue;
      const ts = seg.f64('ts'), ex = seg.f64('expiry');
      for (let i = 0; i < seg.rows; i++) {
        const t = ts[i];
        if (t >= minTs && t <= maxTs && ex[i] > now) visit(seg.baseRow + i);
      }
    }
    if (this.headRows === 0 || this.headMaxTs < minTs || this.headMinTs > maxTs) return;
    const ts = (this.head.get('ts') as { values: GrowableColumn<Float64Array> }).values.data;
    const ex = (this.head.get('expiry') as { values: GrowableColumn<Float64Array> }).values.data;
    for (let i = 0; i < this.headRows; i++) {
      const t = ts[i];
      if (t >= minTs && t <= maxTs && ex[i] > now) visit(this.headBase + i);
    }
  }

  dropExpired(now = this.clock()): RowSegment[] {
    const dropped = this.segments.filter((s) => s.maxExpiry <= now);
    if (dropped.length) this.segments = this.segments.filter((s) => s.maxExpiry > now);
    return dropped;
  }

  get rowCount(): number {
    let n = this.headRows;
    for (const s of this.segments) n += s.rows;
    return n;
  }
}

export type { Vector };
