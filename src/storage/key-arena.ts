/**
 * Byte keys (encoded label sets) end to end in one growing buffer, compared against a
 * source a 4-byte word at a time. The caches that recognise label sets by their bytes keep
 * their keys here rather than in a buffer each: keys are appended in first-seen order, which
 * is the order senders repeat their series in, so the key checked next lies beside the one
 * checked last in memory, where a buffer per key would be anywhere in the heap.
 */
export class KeyArena {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  private used = 0;

  /** Appends `src[start, end)`; returns where those bytes begin. Consecutive appends lie back to back. */
  append(src: Uint8Array, start: number, end: number): number {
    const at = this.used;
    const length = end - start;
    if (at + length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + length));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.bytes.set(src.subarray(start, end), at);
    this.used = at + length;
    return at;
  }

  /** Whether the `length` bytes at `keyAt` equal `src[start, start + length)`; `srcView` is a DataView over exactly `src`. */
  equals(keyAt: number, src: Uint8Array, srcView: DataView, start: number, length: number): boolean {
    const view = this.view;
    let i = 0;
    for (; i + 4 <= length; i += 4) if (srcView.getInt32(start + i) !== view.getInt32(keyAt + i)) return false;
    const bytes = this.bytes;
    for (; i < length; i++) if (src[start + i] !== bytes[keyAt + i]) return false;
    return true;
  }

  /** Forgets every key (offsets handed out before are no longer valid). */
  clear(): void {
    this.used = 0;
  }
}
