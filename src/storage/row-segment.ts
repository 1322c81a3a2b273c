/** An immutable block of event rows (span events or logs) with time and expiry statistics. */
import type { RecordBatch, Vector } from 'apache-arrow';
import { dictionaryData, float64Data, recordBatch, uint8Data, utf8Data, type ArrowColumn } from './arrow.ts';

export type SealedColumn =
  | { kind: 'f64'; values: Float64Array }
  | { kind: 'u8'; values: Uint8Array }
  | { kind: 'dict'; codes: Uint32Array; values: string[] }
  | { kind: 'str'; strings: (string | null)[] };

export class RowSegment {
  readonly rows: number;
  readonly minTs: number;
  readonly maxTs: number;
  readonly maxExpiry: number;
  readonly batch: RecordBatch;
  private readonly columns: Map<string, SealedColumn>;
  /** String columns live in Arrow's UTF-8 buffers (compact), read back per cell. */
  private readonly strings = new Map<string, Vector>();

  constructor(readonly id: number, readonly table: string, readonly baseRow: number, columns: Map<string, SealedColumn>) {
    this.columns = columns;
    const ts = this.f64('ts');
    const ex = this.f64('expiry');
    this.rows = ts.length;
    let minTs = Infinity, maxTs = -Infinity, maxExpiry = -Infinity;
    for (let i = 0; i < ts.length; i++) {
      if (ts[i] < minTs) minTs = ts[i];
      if (ts[i] > maxTs) maxTs = ts[i];
      if (ex[i] > maxExpiry) maxExpiry = ex[i];
    }
    this.minTs = minTs;
    this.maxTs = maxTs;
    this.maxExpiry = maxExpiry;
    this.batch = this.buildBatch();
  }

  f64(name: string): Float64Array {
    const c = this.columns.get(name);
    if (!c || c.kind !== 'f64') throw new Error(`${this.table}: no f64 column ${name}`);
    return c.values;
  }

  column(name: string): SealedColumn | undefined {
    return this.columns.get(name);
  }

  get(i: number, name: string): number | string | undefined {
    const c = this.columns.get(name);
    if (!c) return undefined;
    if (c.kind === 'dict') return c.codes[i] === 0 ? undefined : c.values[c.codes[i]];
    if (c.kind === 'str') return (this.strings.get(name)?.get(i) as string | null) ?? undefined;
    return c.values[i];
  }

  private buildBatch(): RecordBatch {
    const arrow: ArrowColumn[] = [];
    for (const [name, c] of this.columns) {
      if (c.kind === 'f64') arrow.push({ name, data: float64Data(c.values) });
      else if (c.kind === 'u8') arrow.push({ name, data: uint8Data(c.values) });
      else if (c.kind === 'dict') arrow.push({ name, data: dictionaryData(c.codes, c.values), nullable: true });
      else {
        const data = utf8Data(c.strings);
        arrow.push({ name, data, nullable: true });
        this.columns.set(name, { kind: 'str', strings: [] });
      }
    }
    const batch = recordBatch(arrow, {
      'strata.table': this.table,
      'strata.base_row': String(this.baseRow),
      'strata.min_ts': String(this.minTs),
      'strata.max_ts': String(this.maxTs),
      'strata.max_expiry': String(this.maxExpiry),
    });
    for (const [name, c] of this.columns) if (c.kind === 'str') this.strings.set(name, batch.getChild(name) as Vector);
    return batch;
  }
}
