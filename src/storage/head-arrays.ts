/**
 * The columns of the head's series, carved out of large buffers ("slabs") and recycled.
 * A series' columns double as it grows (32, 64, ... rows) and every new series in a head
 * starts small: as separate ArrayBuffers those are thousands of small allocations per
 * second of ingest, each a malloc and a GC-tracked backing store whose bytes count as
 * external memory, which is what starts most full collections during ingest (see
 * `node --trace-gc`: "external memory pressure"). A view into a slab is a small heap
 * object. Blocks are powers of two bytes; a block given back goes on its size's free list
 * for the next series that grows to that size.
 */

const SLAB_BYTES = 1 << 20;
/** Larger blocks get an ArrayBuffer of their own and are not recycled (a few huge series). */
const MAX_SLAB_BLOCK = SLAB_BYTES >> 2;
/** Free blocks kept beyond the bytes in use: enough for a head's worth of series churn. */
const FREE_SLACK_BYTES = 16 << 20;

export class HeadArrays {
  private slab = new ArrayBuffer(SLAB_BYTES);
  private slabUsed = 0;
  /** Free blocks by log2 of their size in bytes. */
  private readonly free: Uint8Array[][] = [];
  private freeBytes = 0;
  private inUseBytes = 0;

  /** A zeroed Float64Array of `capacity` (a power of two) elements. */
  f64(capacity: number): Float64Array {
    const b = this.block(capacity * 8);
    return new Float64Array(b.buffer, b.byteOffset, capacity);
  }

  /** A zeroed Uint32Array of `capacity` (a power of two) elements. */
  u32(capacity: number): Uint32Array {
    const b = this.block(capacity * 4);
    return new Uint32Array(b.buffer, b.byteOffset, capacity);
  }

  /** Gives back an array from f64 or u32; the caller must not touch it again. */
  give(a: Float64Array | Uint32Array): void {
    const bytes = a.byteLength;
    this.inUseBytes -= bytes;
    if (bytes > MAX_SLAB_BLOCK || this.freeBytes + bytes > this.inUseBytes + FREE_SLACK_BYTES) return;
    const list = (this.free[log2(bytes)] ??= []);
    list.push(new Uint8Array(a.buffer, a.byteOffset, bytes));
    this.freeBytes += bytes;
  }

  /** Bytes handed out and not given back (for tests and metrics). */
  get bytesInUse(): number {
    return this.inUseBytes;
  }

  private block(bytes: number): Uint8Array {
    this.inUseBytes += bytes;
    if (bytes > MAX_SLAB_BLOCK) return new Uint8Array(bytes);
    const recycled = this.free[log2(bytes)]?.pop();
    if (recycled !== undefined) {
      this.freeBytes -= bytes;
      return recycled.fill(0);
    }
    if (this.slabUsed + bytes > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const b = new Uint8Array(this.slab, this.slabUsed, bytes);
    this.slabUsed += bytes;
    return b;
  }
}

function log2(powerOfTwo: number): number {
  return 31 - Math.clz32(powerOfTwo);
}
