/**
 * Hands out log sequence numbers (LSNs) to ingest batches and makes them apply in LSN
 * order, so that at any moment the applied batches are exactly those up to one LSN
 * (`appliedThrough`). A seal then covers a known prefix of the log: the segment files
 * record it and replay skips what they already hold. A batch whose WAL append failed
 * is marked done without being applied, so it never holds up the ones after it.
 */
export class LsnSequencer {
  private lastIssued: number;
  private through: number;
  /** Done out of order, waiting for the ones before them. */
  private readonly doneEarly = new Set<number>();
  private readonly turnWaiters = new Map<number, () => void>();
  private throughWaiters: { lsn: number; resolve: () => void }[] = [];

  constructor(start = 0) {
    this.lastIssued = start;
    this.through = start;
  }

  issue(): number {
    return ++this.lastIssued;
  }

  get lastIssuedLsn(): number {
    return this.lastIssued;
  }

  /** Every LSN up to this one is applied (or failed and never will be). */
  get appliedThrough(): number {
    return this.through;
  }

  isTurn(lsn: number): boolean {
    return this.through === lsn - 1;
  }

  /** Resolves once every LSN before `lsn` is done. */
  turn(lsn: number): Promise<void> {
    if (this.isTurn(lsn)) return Promise.resolve();
    return new Promise((resolve) => this.turnWaiters.set(lsn, resolve));
  }

  /** Resolves once every LSN up to `lsn` is done. */
  whenThrough(lsn: number): Promise<void> {
    if (this.through >= lsn) return Promise.resolve();
    return new Promise((resolve) => this.throughWaiters.push({ lsn, resolve }));
  }

  done(lsn: number): void {
    if (lsn !== this.through + 1) {
      this.doneEarly.add(lsn);
      return;
    }
    this.through = lsn;
    while (this.doneEarly.delete(this.through + 1)) this.through++;
    for (const [waiting, resolve] of this.turnWaiters) {
      if (waiting > this.through + 1) continue;
      this.turnWaiters.delete(waiting);
      resolve();
    }
    if (this.throughWaiters.length > 0) {
      const ready = this.throughWaiters.filter((w) => w.lsn <= this.through);
      this.throughWaiters = this.throughWaiters.filter((w) => w.lsn > this.through);
      for (const w of ready) w.resolve();
    }
  }

  /** After replay: the log continues after `lsn`, all of which is applied. */
  resetTo(lsn: number): void {
    this.lastIssued = lsn;
    this.through = lsn;
  }
}
