/**
 * Ingest bodies decoded on worker threads. A large body (a batch of thousands of events or
 * a series batch) is copied to the least busy decode thread, which validates it and sends
 * back its batch already in WAL encoding (decode-thread.ts); the main thread decodes that
 * compact form (batch-codec.ts), and the WAL writes those same bytes. So the main thread's
 * share of an ingest is the cheap part, and two bodies decode while a third is applied.
 *
 * Small bodies (a single event, a small batch) are decoded inline: a thread round trip
 * would cost them more than it saves. With `threads: 0` everything is inline, and so is
 * every body while the threads are still loading (they start with the pool).
 * Answers are the same either way: the same decoder runs, and its errors (ApiError 400)
 * come back with their status and message.
 */
import { Worker } from 'node:worker_threads';
import { decodeBatch } from '../storage/batch-codec.ts';
import type { IngestBatch } from '../storage/events.ts';
import { log } from '../log.ts';
import { ApiError } from './errors.ts';
import { decodeIngestBatch, type IngestFormat } from './msgpack-ingest.ts';

export interface DecodeJob {
  id: number;
  bytes: Uint8Array;
  format: IngestFormat;
  defaultTtlSeconds: number;
}

export type DecodeReply =
  | { id: number; ok: true; encoded: Uint8Array | null }
  | { id: number; ok: false; status: number; message: string };

export interface DecodePoolOptions {
  threads: number;
  /** Bodies smaller than this are decoded inline. */
  inlineBelowBytes?: number;
}

/** Below this a body decodes in well under a millisecond: not worth a thread hop. */
export const DEFAULT_INLINE_BELOW_BYTES = 32 * 1024;

const WORKER_URL = new URL('./decode-thread.mjs', import.meta.url);
const RESTART_DELAY_MS = 1000;
const EMPTY: IngestBatch = Object.freeze({ ttlSeconds: 0, events: [], series: [] }) as IngestBatch;

interface Waiter {
  resolve(batch: IngestBatch): void;
  reject(error: Error): void;
}

class DecodeThread {
  readonly pending = new Map<number, Waiter>();
  worker: Worker | null = null;
  /** Loaded and taking bodies; until then (and after a crash, until restarted) bodies decode inline. */
  ready = false;
  /** Whether a thread ever loaded: only then is a crashed one replaced (one that cannot load would loop). */
  private everReady = false;
  private closed = false;

  constructor() {
    this.start();
  }

  post(job: DecodeJob, waiter: Waiter): void {
    const worker = this.worker!;
    this.pending.set(job.id, waiter);
    worker.ref();
    worker.postMessage(job, [job.bytes.buffer as ArrayBuffer]);
  }

  close(): Promise<unknown> {
    const worker = this.worker;
    this.worker = null;
    this.ready = false;
    this.closed = true;
    this.failAll(new Error('ingest decoder closed'));
    return worker ? worker.terminate() : Promise.resolve();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_URL);
    worker.on('message', (reply: DecodeReply | 'ready') => {
      if (reply === 'ready') this.ready = this.everReady = this.worker === worker;
      else this.settle(reply);
    });
    worker.on('error', (error) => this.crashed(worker, error));
    worker.on('exit', (code) => this.crashed(worker, new Error(`ingest decode thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: DecodeReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    // Only while a body is being decoded does the thread keep the process alive.
    if (this.pending.size === 0) this.worker?.unref();
    if (!reply.ok) {
      waiter.reject(reply.status === 500 ? new Error(`ingest decode thread: ${reply.message}`) : new ApiError(reply.status, reply.message));
      return;
    }
    if (reply.encoded === null) {
      waiter.resolve(EMPTY);
      return;
    }
    let batch: IngestBatch;
    try {
      batch = decodeBatch(reply.encoded);
    } catch (error) {
      waiter.reject(error as Error);
      return;
    }
    batch.encoded = reply.encoded;
    waiter.resolve(batch);
  }

  /**
   * A dead thread fails its bodies (500: the client may retry) and is replaced a second
   * later; one that never loaded is not (bodies then decode inline), nor one after close.
   */
  private crashed(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.ready = false;
    this.failAll(error);
    log.warn('ingest decode thread stopped', { error: error.message, replaced: this.everReady && !this.closed });
    if (!this.everReady || this.closed) return;
    setTimeout(() => {
      if (!this.closed && this.worker === null) this.start();
    }, RESTART_DELAY_MS).unref();
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

export class DecodePool {
  private readonly threads: DecodeThread[];
  private readonly inlineBelow: number;
  private nextId = 1;

  constructor(options: DecodePoolOptions) {
    this.threads = Array.from({ length: Math.max(0, options.threads) }, () => new DecodeThread());
    this.inlineBelow = options.inlineBelowBytes ?? DEFAULT_INLINE_BELOW_BYTES;
  }

  /**
   * The validated batch of a body: inline (synchronously) or from a decode thread. `bytes`
   * may be a view of a buffer the caller reuses: a thread gets a copy, taken right here.
   */
  decode(bytes: Uint8Array | null, format: IngestFormat, defaultTtlSeconds: number): IngestBatch | Promise<IngestBatch> {
    const thread = bytes === null || bytes.byteLength < this.inlineBelow ? null : this.leastBusy();
    if (bytes === null || thread === null) return decodeIngestBatch(bytes, format, defaultTtlSeconds);
    // new Uint8Array(view) copies (a Buffer's slice() would not).
    const job: DecodeJob = { id: this.nextId++, bytes: new Uint8Array(bytes), format, defaultTtlSeconds };
    return new Promise((resolve, reject) => thread.post(job, { resolve, reject }));
  }

  close(): Promise<unknown> {
    return Promise.all(this.threads.map((t) => t.close()));
  }

  /** The ready thread with the fewest bodies in hand; null when none is ready. */
  private leastBusy(): DecodeThread | null {
    let best: DecodeThread | null = null;
    for (const t of this.threads) if (t.ready && (best === null || t.pending.size < best.pending.size)) best = t;
    return best;
  }
}
