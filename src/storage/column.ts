/**
 * Growable typed-array columns and the string dictionary: the building blocks of a
 * table's mutable head. Appends write into a preallocated typed array and double it
 * when full, so the hot path is one bounds check and one store.
 */

type TypedArrayCtor<T> = { new (length: number): T };
export type NumericArray = Float64Array | Uint32Array | Uint8Array | Int32Array;

export class GrowableColumn<T extends NumericArray> {
  data: T;
  length = 0;

  constructor(private readonly ctor: TypedArrayCtor<T>, initialCapacity = 1024) {
    this.data = new ctor(Math.max(16, initialCapacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Bulk append (one memcpy), the series-batch ingest path. */
  pushAll(values: ArrayLike<number>): void {
    const n = values.length;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    if (ArrayBuffer.isView(values)) {
      (this.data as unknown as { set(a: ArrayLike<number>, o: number): void }).set(values, this.length);
    } else {
      const d = this.data;
      const base = this.length;
      for (let i = 0; i < n; i++) d[base + i] = values[i];
    }
    this.length += n;
  }

  /** Appends `count` copies of `value`. */
  fill(value: number, count: number): void {
    if (this.length + count > this.data.length) this.grow(this.length + count);
    this.data.fill(value, this.length, this.length + count);
    this.length += count;
  }

  /** A view of the filled part: no copy, invalidated by the next growth. */
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }

  /** An exact-size copy that owns its buffer: what a sealed segment keeps. */
  snapshot(): T {
    return this.data.slice(0, this.length) as T;
  }

  clear(): void {
    this.length = 0;
  }

  private grow(minCapacity: number): void {
    let capacity = this.data.length * 2;
    while (capacity < minCapacity) capacity *= 2;
    const next = new this.ctor(capacity);
    (next as unknown as { set(a: T): void }).set(this.data);
    this.data = next;
  }
}

export const f64Column = (capacity?: number) => new GrowableColumn(Float64Array, capacity);
export const u32Column = (capacity?: number) => new GrowableColumn(Uint32Array, capacity);
export const u8Column = (capacity?: number) => new GrowableColumn(Uint8Array, capacity);

/**
 * Strings to dense integer codes. Code 0 is reserved for "no value" (null/absent), so
 * a zero-filled code column means "all absent" and needs no separate validity bitmap.
 */
export class StringDictionary {
  private readonly codes = new Map<string, number>();
  /** values[code]; values[0] is the placeholder for "absent". */
  readonly values: string[] = [''];

  encode(value: string): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.codes.set(value, code);
    }
    return code;
  }

  /** Code of an already-known string, or -1: lets scans skip a segment that cannot match. */
  lookup(value: string): number {
    return this.codes.get(value) ?? -1;
  }

  decode(code: number): string | undefined {
    return code === 0 ? undefined : this.values[code];
  }

  get size(): number {
    return this.values.length;
  }
}
