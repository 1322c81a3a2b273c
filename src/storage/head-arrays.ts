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
    this.inUseBytes += capacity * 8;
    const recycled = this.freeF64[log2(capacity)]?.pop();
    if (recycled !== undefined) {
      this.freeBytes -= capacity * 8;
      return recycled;
    }
    const bytes = capacity * 8;
    if (bytes > MAX_SLAB_BLOCK) return new Float64Array(capacity);
    const at = this.carve(bytes); // first: it may start a new slab
    return new Float64Array(this.slab, at, capacity);
  }

  /** A zeroed Uint32Array of `capacity` (a power of two) elements. */
  u32(capacity: number): Uint32Array {
    this.inUseBytes += capacity * 4;
    const recycled = this.freeU32[log2(capacity)]?.pop();
    if (recycled !== undefined) {
      this.freeBytes -= capacity * 4;
      return recycled.fill(0);
    }
    const bytes = capacity * 4;
    if (bytes > MAX_SLAB_BLOCK) return new Uint32Array(capacity);
    const at = this.carve(bytes);
    return new Uint32Array(this.slab, at, capacity);
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

  /** The offset of `bytes` fresh (zeroed) bytes in `this.slab`. */
  private carve(bytes: number): number {
    if (this.slabUsed + bytes > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slabUsed += bytes;
    return at;
  }
}

function log2(powerOfTwo: number): number {
  return 31 - Math.clz32(powerOfTwo);
}
