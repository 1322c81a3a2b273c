/**
 * Fixed slots of one SharedArrayBuffer that large ingest bodies are read into and decode
 * threads read from (decode-pool.ts). A body read into a fresh buffer, then copied into the
 * thread's message, cost the main thread an ArrayBuffer per request, and every ArrayBuffer
 * counts towards V8's external-memory trigger for a full GC of the main heap, the largest one
 * (`--trace-incremental-marking` names "external memory pressure" as such a GC's cause). The
 * shared buffer is allocated once and handed to each thread once; a job names its slot.
 * Behind each body is room for what the thread makes of it (its WAL entry), which the main
 * thread writes to the WAL and applies from there: no ArrayBuffer for that either.
 *
 * A slot is claimed by `take`, which hands out a view, and freed by `release` of that same
 * view: release is idempotent, and a view already released frees nothing, so a slot
 * re-claimed by another body is never freed by mistake.
 */
export class BodySlots {
  readonly buffer: SharedArrayBuffer;
  private readonly free: number[] = [];
  private readonly claimed = new Map<Uint8Array, number>();

  constructor(readonly count: number, readonly bodyBytes: number, readonly entryBytes = 0) {
    this.buffer = new SharedArrayBuffer(count * (bodyBytes + entryBytes));
    for (let i = count - 1; i >= 0; i--) this.free.push(i);
  }

  /** Where slot `slot` begins; its body region comes first, its entry region right after. */
  static offsetOf(slot: number, bodyBytes: number, entryBytes: number): number {
    return slot * (bodyBytes + entryBytes);
  }

  /** A view of `length` bytes of a free slot, now claimed; null when none is free or the body is larger than a slot. */
  take(length: number): Uint8Array | null {
    if (length > this.bodyBytes || length === 0) return null;
    const slot = this.free.pop();
    if (slot === undefined) return null;
    const view = new Uint8Array(this.buffer, BodySlots.offsetOf(slot, this.bodyBytes, this.entryBytes), length);
    this.claimed.set(view, slot);
    return view;
  }

  /** The slot a claimed view holds, or -1 for any other array (or a view already released). */
  slotOf(view: Uint8Array): number {
    return this.claimed.get(view) ?? -1;
  }

  /** The first `length` bytes of a slot's entry region (what its thread wrote there). */
  entry(slot: number, length: number): Uint8Array {
    if (length > this.entryBytes) throw new RangeError(`entry of ${length} bytes in a ${this.entryBytes}-byte region`);
    return new Uint8Array(this.buffer, BodySlots.offsetOf(slot, this.bodyBytes, this.entryBytes) + this.bodyBytes, length);
  }

  release(view: Uint8Array | null): void {
    if (view === null) return;
    const slot = this.claimed.get(view);
    if (slot === undefined) return;
    this.claimed.delete(view);
    this.free.push(slot);
  }

  get inUse(): number {
    return this.claimed.size;
  }
}
