/**
 * The ingest gate: every transport (HTTP routes, the WebSocket stream, OTLP) hands its
 * decoded batches through here to the store. It bounds the backlog — bytes and batches
 * received but not yet durable — and answers 429 with Retry-After once the bound is
 * reached, so a WAL that cannot keep up makes clients back off instead of growing memory.
 * It also keeps the ingest counters of /metrics.
 */
import type { IngestBatch } from '../storage/events.ts';
import { countSamples } from '../storage/events.ts';
import { ApiError } from '../telemetry/errors.ts';
import type { Counter, MetricsRegistry } from './metrics-registry.ts';

export type Transport = 'http' | 'stream' | 'otlp';

export interface BacklogLimits {
  /** Body bytes of batches awaiting the WAL; one batch larger than this is still taken when nothing else waits. */
  maxBytes: number;
  maxBatches: number;
  /** What Retry-After tells a refused client. */
  retryAfterSeconds: number;
}

export const DEFAULT_BACKLOG_BATCHES = 1024;
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Room for a few maximum-size bodies at once, and never less than 64 MiB. */
export function defaultBacklogLimits(bodyLimitBytes: number): BacklogLimits {
  return {
    maxBytes: Math.max(64 * 1024 * 1024, 4 * bodyLimitBytes),
    maxBatches: DEFAULT_BACKLOG_BATCHES,
    retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
  };
}

export class IngestGate {
  private backlogBytes = 0;
  private backlogBatches = 0;
  private readonly accepted: Counter;
  private readonly items: Counter;
  private readonly refused: Counter;

  constructor(
    private readonly ingest: (batch: IngestBatch) => Promise<void>,
    private readonly limits: BacklogLimits,
    metrics: MetricsRegistry,
  ) {
    metrics.gauge({
      name: 'strata_ingest_backlog_bytes',
      help: 'Body bytes of ingest batches received and not yet durable.',
      collect: (g) => g.set(this.backlogBytes),
    });
    metrics.gauge({
      name: 'strata_ingest_backlog_batches',
      help: 'Ingest batches received and not yet durable.',
      collect: (g) => g.set(this.backlogBatches),
    });
    this.accepted = metrics.counter({
      name: 'strata_ingest_batches_total',
      help: 'Ingest batches made durable and applied, by transport.',
      labelNames: ['transport'],
    });
    this.items = metrics.counter({
      name: 'strata_ingest_items_total',
      help: 'Events and samples made durable and applied, by transport.',
      labelNames: ['transport'],
    });
    this.refused = metrics.counter({
      name: 'strata_ingest_rejected_total',
      help: 'Ingest batches refused, by transport and reason (invalid: 400; overloaded: 429).',
      labelNames: ['transport', 'reason'],
    });
  }

  /** Throws the 429 when a body of `bytes` would not fit the backlog now (checked before reading or decoding it). */
  checkRoom(bytes: number, transport: Transport): void {
    if (this.hasRoom(bytes)) return;
    this.refused.labels(transport, 'overloaded').inc();
    throw new ApiError(
      429,
      `ingest overloaded: ${this.backlogBatches} batches (${this.backlogBytes} bytes) are waiting for the write-ahead log; retry after ${this.limits.retryAfterSeconds} s`,
      { 'retry-after': String(this.limits.retryAfterSeconds) },
    );
  }

  /**
   * Decodes a body of `bytes` with `decode` (inline or on a decode thread) and makes the
   * batch durable; resolves to the number of events and samples applied. Throws the
   * decoder's 400 (nothing applied) or a 429.
   */
  async accept(transport: Transport, bytes: number, decode: () => IngestBatch | Promise<IngestBatch>): Promise<number> {
    this.checkRoom(bytes, transport);
    // The body holds its room from here: while it decodes on a thread, others see it taken.
    this.backlogBytes += bytes;
    this.backlogBatches++;
    try {
      let batch: IngestBatch;
      try {
        // A body decoded inline goes on to the WAL in this same turn; one from a decode thread, once it is back.
        const decoded = decode();
        batch = decoded instanceof Promise ? await decoded : decoded;
      } catch (error) {
        // A decode thread that died (500) is the server's failure, not an invalid body.
        if (!((error as { status?: number }).status! >= 500)) this.refused.labels(transport, 'invalid').inc();
        throw error;
      }
      const n = countSamples(batch);
      if (n === 0) return 0;
      await this.ingest(batch);
      this.accepted.labels(transport).inc();
      this.items.labels(transport).inc(n);
      return n;
    } finally {
      this.backlogBytes -= bytes;
      this.backlogBatches--;
    }
  }

  private hasRoom(bytes: number): boolean {
    if (this.backlogBatches === 0) return true;
    return this.backlogBatches < this.limits.maxBatches && this.backlogBytes + bytes <= this.limits.maxBytes;
  }
}
