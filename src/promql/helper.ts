/**
 * A second thread for the engine's heaviest loops (one per process, started on first use,
 * never keeping the process alive). The engine stays synchronous: a caller puts its inputs
 * in shared memory, submits a job, does its own half of the work, then blocks on the job
 * (Atomics.wait) and reads the helper's half from shared memory. Jobs are run by
 * helper-thread.ts: writing range-query answers (result-json.ts) and range-function loops
 * (functions.ts).
 *
 * Until the thread has started, or once it failed or took too long, `helper()` answers
 * null and callers do all the work themselves.
 */
import { Worker } from 'node:worker_threads';

/** control[0] of a job: its state; control[1]: a result (e.g. bytes written). */
export const JOB_PENDING = 0;
export const JOB_DONE = 1;
export const JOB_FAILED = 2;

/** Every job carries an 8-byte shared control block. */
export interface HelperJob {
  kind: string;
  control: SharedArrayBuffer;
}

/** How long a caller waits for the helper's half before doing it itself. */
const WAIT_MS = 30_000;

export interface Pending {
  /** Blocks until the helper is done; false when it failed or took too long (the caller then does it). */
  wait(): boolean;
  /** control[1] once done. */
  result(): number;
}

class Helper {
  ready = false;
  broken = false;
  private readonly worker: Worker;

  constructor() {
    this.worker = new Worker(new URL('./helper-thread.mjs', import.meta.url));
    this.worker.on('message', (m: unknown) => {
      if (m === 'ready') this.ready = true;
    });
    this.worker.on('error', () => (this.broken = true));
    this.worker.on('exit', () => (this.broken = true));
    // After the listeners (adding one refs the worker again): it never keeps the process alive.
    this.worker.unref();
  }

  submit(job: HelperJob): Pending {
    const state = new Int32Array(job.control);
    this.worker.postMessage(job);
    return {
      wait: () => {
        Atomics.wait(state, 0, JOB_PENDING, WAIT_MS);
        if (Atomics.load(state, 0) === JOB_DONE) return true;
        // A helper that failed or hung is not asked again.
        this.broken = true;
        return false;
      },
      result: () => Atomics.load(state, 1),
    };
  }
}

let shared: Helper | null = null;

/** How many jobs the helper finished (for tests and curiosity). */
export const HELPER_STATS = { encode: 0, range: 0 };

/** The helper once it is ready; the first call starts it (and gets null). */
export function helper(): { submit(job: HelperJob): Pending } | null {
  shared ??= new Helper();
  return shared.ready && !shared.broken ? shared : null;
}

/** Starts the helper ahead of the first heavy query; true once it is ready. */
export function warmUpHelper(): boolean {
  return helper() !== null;
}

/** A fresh control block for a job. */
export function newControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

const scratch = new Map<string, SharedArrayBuffer>();

/**
 * Shared memory of at least `bytes` for one role in a job (e.g. 'range.t'), reused from
 * job to job: only one job runs at a time (the caller waits for it), and a helper that
 * failed or hung is never sent another. Its contents are whatever the last job left.
 */
export function sharedScratch(role: string, bytes: number): SharedArrayBuffer {
  let buf = scratch.get(role);
  if (!buf || buf.byteLength < bytes) {
    buf = new SharedArrayBuffer(Math.max(bytes, Math.min(2 * (buf?.byteLength ?? 0), bytes * 2), 4096));
    scratch.set(role, buf);
  }
  return buf;
}
