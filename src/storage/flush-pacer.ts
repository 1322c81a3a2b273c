/**
 * When the maintenance timer's background flush (Parquet files, then the WAL checkpoint)
 * may start: once ingest has been quiet for `quietMs`, so that a burst's CPU goes to its
 * requests (on two cores the flush, and its worker's compiler and collector, which no nice
 * value reaches, take a share of a busy machine), but never later than `maxDelayMs` after
 * it was first put off, so that under steady ingest the WAL files and the sealed segments
 * waiting for Parquet stay bounded. Nothing waits on the flush: rows are durable in the WAL
 * and queryable in memory from the moment they are acknowledged.
 */
export class FlushPacer {
  private lastIngest = -Infinity;
  private deferredSince: number | null = null;

  constructor(
    private readonly quietMs: number,
    private readonly maxDelayMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A batch came in. */
  ingested(): void {
    this.lastIngest = this.now();
  }

  /** Whether to start the flush now; `due`: there is something to flush or checkpoint. */
  mayFlush(due: boolean): boolean {
    const now = this.now();
    if (!due || now - this.lastIngest >= this.quietMs) {
      this.deferredSince = null;
      return due;
    }
    this.deferredSince ??= now;
    if (now - this.deferredSince < this.maxDelayMs) return false;
    this.deferredSince = null;
    return true;
  }
}
