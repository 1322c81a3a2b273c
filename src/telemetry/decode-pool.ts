/**
 * Ingest bodies decoded on worker threads. A large body (a batch of thousands of events or
 * a series batch) goes to the least busy decode thread — in a shared body slot when the HTTP
 * route read it into one (body-slots.ts), else copied into the message — which validates it
 * and sends back its batch as a WAL entry less the LSN (decode-thread.ts; in the slot, behind
 * the body, when it came in one); the main thread decodes that compact form (batch-codec.ts),
 * and the WAL writes that same buffer once the LSN is in. So the main thread's share of an
 * ingest is the cheap part, and two bodies decode while a third is applied.
 *
 * Small bodies (a single event, a small batch) are decoded inline: a thread round trip
 * would cost them more than it saves. With `threads: 0` everything is inline, and so is
 * every body while the threads are still loading (they start with the pool).
 * Answers are the same either way: the same decoder runs, and its errors (ApiError 400)
 * come back with their status and message.
 */
import { decodeBatch } from '../storage/batch-codec.ts';
import { LSN_BYTES } from '../storage/wal-entry.ts';
import { WorkerJobs } from '../storage/worker-jobs.ts';
import type { IngestBatch } from '../storage/events.ts';
import { log } from '../log.ts';
import { ApiError } from './errors.ts';
import { decodeIngestBatch, type IngestFormat } from './msgpack-ingest.ts';
import { BodySlots } from './body-slots.ts';
import type { BodyBuffers } from '../server/body.ts';

/** A body to decode: its bytes, or where they are in the shared body slots (`slot` >= 0, `length` bytes). */
export interface DecodeJob {
  id: number;
  bytes: Uint8Array | null;
  slot: number;
  length: number;
  format: IngestFormat;
  defaultTtlSeconds: number;
}

/** What every decode thread is started with: the body slots (body-slots.ts) and their layout. */
export interface DecodeThreadData {
  slots: SharedArrayBuffer | null;
  bodyBytes: number;
  entryBytes: number;
}

/**
 * `entry`: the WAL entry in a buffer of its own, or null with `entryLength` > 0 when it was
 * written into the job's slot (its entry region), or null and 0 for an empty batch.
 */
export type DecodeReply =
  | { id: number; ok: true; entry: Uint8Array | null; entryLength: number }
  | { id: number; ok: false; status: number; message: string };

export interface DecodePoolOptions {
  threads: number;
  /** Bodies smaller than this are decoded inline. */
  inlineBelowBytes?: number;
}

/** Below this a body decodes in well under a millisecond: not worth a thread hop. */
export const DEFAULT_INLINE_BELOW_BYTES = 32 * 1024;
/**
 * Body slots (body-slots.ts): a 10k-event msgpack batch is ~1.6 MB (ingest.json: 488 MiB in
 * 300 bodies) and its WAL entry smaller; larger ones take buffers of their own. A slot is held until its batch is in the WAL and
 * applied: four per thread cover its queue, the bodies being read and those being written.
 */
const SLOT_BODY_BYTES = 2 * 1024 * 1024;
const SLOT_ENTRY_BYTES = 1024 * 1024;
const SLOTS_PER_THREAD = 4;

const WORKER_URL = new URL('./decode-thread.mjs', import.meta.url);
const RESTART_DELAY_MS = 1000;
const EMPTY: IngestBatch = Object.freeze({ ttlSeconds: 0, events: [], series: [] }) as IngestBatch;

class DecodeThread {
  private readonly jobs: WorkerJobs<DecodeReply>;
  /** Loaded and taking bodies; until then (and after a crash, until restarted) bodies decode inline. */
  ready = false;
  /** Whether a thread ever loaded: only then is a crashed one replaced (one that cannot load would loop). */
  private everReady = false;
  private closed = false;

  constructor(data: DecodeThreadData) {
    this.jobs = new WorkerJobs<DecodeReply>(WORKER_URL, 'ingest decode thread', {
      onMessage: (message, worker) => {
        if (message !== 'ready') return false;
        this.ready = this.everReady = this.jobs.worker === worker;
        return true;
      },
      onCrash: (error) => this.crashed(error),
    }, data);
    this.jobs.start();
  }

  get pending(): number {
    return this.jobs.size;
  }

  /**
   * `job.bytes` is copied into the message (structured clone), not transferred: the caller may
   * reuse it. A slot is read in place, and the entry may come back in it (`slots`).
   */
  async decode(job: DecodeJob, slots: BodySlots | null): Promise<IngestBatch> {
    const reply = await this.jobs.run(job, []);
    if (!reply.ok) throw reply.status === 500 ? new Error(`ingest decode thread: ${reply.message}`) : new ApiError(reply.status, reply.message);
    const entry = reply.entry ?? (reply.entryLength > 0 ? slots!.entry(job.slot, reply.entryLength) : null);
    if (entry === null) return EMPTY;
    const batch = decodeBatch(entry.subarray(LSN_BYTES));
    batch.walEntry = entry;
    return batch;
  }

  close(): Promise<unknown> {
    this.ready = false;
    this.closed = true;
    return this.jobs.close('ingest decoder closed');
  }

  /**
   * A dead thread has failed its bodies (500: the client may retry); it is replaced a second
   * later, unless it never loaded (bodies then decode inline) or the pool is closed.
   */
  private crashed(error: Error): void {
    this.ready = false;
    log.warn('ingest decode thread stopped', { error: error.message, replaced: this.everReady && !this.closed });
    if (!this.everReady || this.closed) return;
    setTimeout(() => {
      if (!this.closed && this.jobs.worker === null) this.jobs.start();
    }, RESTART_DELAY_MS).unref();
  }
}

export class DecodePool {
  private readonly threads: DecodeThread[];
  private readonly inlineBelow: number;
  private readonly slots: BodySlots | null;
  private nextId = 1;

  constructor(options: DecodePoolOptions) {
    const threads = Math.max(0, options.threads);
    this.slots = threads > 0 ? new BodySlots(threads * SLOTS_PER_THREAD, SLOT_BODY_BYTES, SLOT_ENTRY_BYTES) : null;
    const data: DecodeThreadData = { slots: this.slots?.buffer ?? null, bodyBytes: SLOT_BODY_BYTES, entryBytes: SLOT_ENTRY_BYTES };
    this.threads = Array.from({ length: threads }, () => new DecodeThread(data));
    this.inlineBelow = options.inlineBelowBytes ?? DEFAULT_INLINE_BELOW_BYTES;
  }

  /**
   * For readBody (a route's BodyBuffers): a body slot for a body that will go to a thread,
   * else null. Whoever gets a slot view hands it to `decode` and, once the batch is in the WAL
   * and applied (its entry may be in the slot), gives it back with `release`.
   */
  readonly bodyBuffers: BodyBuffers = {
    take: (length) => (this.slots !== null && length >= this.inlineBelow && this.leastBusy() !== null ? this.slots.take(length) : null),
    release: (bytes) => this.release(bytes),
  };

  /**
   * The validated batch of a body: inline (synchronously) or from a decode thread. `bytes`
   * may be a view of a buffer the caller reuses: a thread gets a copy, taken right here.
   * The copy is the message's (postMessage clones it into the thread's heap), not a new
   * ArrayBuffer here: every main-thread ArrayBuffer counts towards V8's external-memory
   * trigger for a full GC of the main heap, the largest one, and ingest makes many.
   */
  decode(bytes: Uint8Array | null, format: IngestFormat, defaultTtlSeconds: number): IngestBatch | Promise<IngestBatch> {
    const thread = bytes === null || bytes.byteLength < this.inlineBelow ? null : this.leastBusy();
    const slot = bytes === null || this.slots === null ? -1 : this.slots.slotOf(bytes);
    if (slot >= 0) return this.decodeSlot(bytes!, slot, thread, format, defaultTtlSeconds);
    if (bytes === null || thread === null) return decodeIngestBatch(bytes, format, defaultTtlSeconds);
    // A clone takes the view's whole ArrayBuffer: a view of part of a larger one is cut out
    // first (new Uint8Array(view) copies; a Buffer's slice() would not).
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const job: DecodeJob = { id: this.nextId++, bytes: whole ? bytes : new Uint8Array(bytes), slot: -1, length: bytes.byteLength, format, defaultTtlSeconds };
    return thread.decode(job, null);
  }

  /**
   * A body in a slot: read there by a thread, which may write the batch's WAL entry behind it,
   * so the slot stays claimed until the caller releases it (ingest-routes.ts, once the batch
   * is applied), but for a refused body, freed at once; inline from a copy if no thread is ready now.
   */
  private decodeSlot(bytes: Uint8Array, slot: number, thread: DecodeThread | null, format: IngestFormat, defaultTtlSeconds: number): IngestBatch | Promise<IngestBatch> {
    const slots = this.slots!;
    if (thread === null) {
      // The decoded batch may keep views of its body: not of a slot the next body reuses.
      const copy = new Uint8Array(bytes);
      slots.release(bytes);
      return decodeIngestBatch(copy, format, defaultTtlSeconds);
    }
    const job: DecodeJob = { id: this.nextId++, bytes: null, slot, length: bytes.byteLength, format, defaultTtlSeconds };
    return thread.decode(job, slots).catch((error: unknown) => {
      slots.release(bytes);
      throw error;
    });
  }

  /** Gives back a body `decode` was not given after all (a slot view; anything else is ignored). */
  release(bytes: Uint8Array | null): void {
    this.slots?.release(bytes);
  }

  close(): Promise<unknown> {
    return Promise.all(this.threads.map((t) => t.close()));
  }

  /** The ready thread with the fewest bodies in hand; null when none is ready. */
  private leastBusy(): DecodeThread | null {
    let best: DecodeThread | null = null;
    for (const t of this.threads) if (t.ready && (best === null || t.pending < best.pending)) best = t;
    return best;
  }
}
