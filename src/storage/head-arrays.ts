/**
 * The columns of the head's series, carved out of large buffers ("slabs") and recycled.
 * A series' columns double as it grows (32, 64, ... rows) and every new series in a head
 * starts small: as separate ArrayBuffers those are thousands of small allocations per
 * second of ingest, each a malloc and a GC-tracked backing store whose bytes count as
 * external memory, which starts collections (`node --trace-gc`: "external memory
 * pressure"). A view into a slab is a small heap object. An array given back is kept, as
 * it is, on the free list of its type and capacity for the next series that grows to that
 * size: taking it again allocates nothing.
 */

const SLAB_BYTES = 1 << 20;
/** Larger arrays get an ArrayBuffer of their own and are not recycled (a few huge series). */
const MAX_SLAB_BLOCK = SLAB_BYTES >> 2;
/** Free arrays kept beyond the bytes in use: enough for a head's worth of series churn. */
const FREE_SLACK_BYTES = 16 << 20;

export class HeadArrays {
  private slab = new ArrayBuffer(SLAB_BYTES);
  private slabUsed = 0;
  /** Free arrays by log2 of their capacity. */
  private readonly freeF64: Float64Array[][] = [];
  private readonly freeU32: Uint32Array[][] = [];
  private freeBytes = 0;
  private inUseBytes = 0;

  /** A Float64Array of `capacity` (a power of two) elements; a recycled one holds old values. */
  f64(capacity: number): Float64Array {
    return this.take(this.freeF64, capacity, Float64Array);
  }

  /** A zeroed Uint32Array of `capacity` (a power of two) elements (id codes: 0 is "none"). */
  u32(capacity: number): Uint32Array {
    return this.take(this.freeU32, capacity, Uint32Array).fill(0);
  }

  /** Gives back an array from f64 or u32; the caller must not touch it again. */
  give(a: Float64Array | Uint32Array): void {
    const bytes = a.byteLength;
    this.inUseBytes -= bytes;
    if (bytes > MAX_SLAB_BLOCK || this.freeBytes + bytes > this.inUseBytes + FREE_SLACK_BYTES) return;
    if (a instanceof Float64Array) (this.freeF64[log2(a.length)] ??= []).push(a);
    else (this.freeU32[log2(a.length)] ??= []).push(a);
    this.freeBytes += bytes;
  }

  /** Bytes handed out and not given back (for tests and metrics). */
  get bytesInUse(): number {
    return this.inUseBytes;
  }

  /** A free array of `capacity`, else a new one: carved from the slab, or its own if huge. */
  private take<T extends Float64Array | Uint32Array>(free: T[][], capacity: number, type: TypedArrayType<T>): T {
    const bytes = capacity * type.BYTES_PER_ELEMENT;
    this.inUseBytes += bytes;
    const recycled = free[log2(capacity)]?.pop();
    if (recycled !== undefined) {
      this.freeBytes -= bytes;
      return recycled;
    }
    if (bytes > MAX_SLAB_BLOCK) return new type(capacity);
    if (this.slabUsed + bytes > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slabUsed += bytes;
    return new type(this.slab, at, capacity);
  }
}

interface TypedArrayType<T> {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): T;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
}

function log2(powerOfTwo: number): number {
  return 31 - Math.clz32(powerOfTwo);
}
