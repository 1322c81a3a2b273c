/**
 * Jobs on one worker thread, matched to their replies by id: the Parquet writer's and the
 * ingest decode threads' shared plumbing. The worker keeps the process alive only while it
 * holds a job. A worker that dies fails the jobs it held with the error; `onCrash` decides
 * what happens next (the caller may `start()` a new one).
 */
import { Worker } from 'node:worker_threads';

interface Waiter<Reply> {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

export class WorkerJobs<Reply extends { id: number }> {
  worker: Worker | null = null;
  private readonly pending = new Map<number, Waiter<Reply>>();
  private nextId = 1;

  constructor(
    private readonly url: URL,
    private readonly name: string,
    private readonly hooks: { onMessage?: (message: unknown, worker: Worker) => boolean; onCrash?: (error: Error) => void } = {},
    /** Given to every worker started (shared memory stays shared). */
    private readonly workerData?: unknown,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** A fresh job id. */
  id(): number {
    return this.nextId++;
  }

  /** Sends a job (starting the worker if there is none) and resolves with its reply. */
  run(job: { id: number }, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      worker.ref();
      worker.postMessage(job, transfer);
    });
  }

  start(): Worker {
    const worker = new Worker(this.url, { workerData: this.workerData });
    worker.on('message', (message: Reply) => {
      if (!this.hooks.onMessage?.(message, worker)) this.settle(message);
    });
    worker.on('error', (error) => this.crashed(worker, error));
    worker.on('exit', (code) => this.crashed(worker, new Error(`${this.name} exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Stops the worker; jobs still held fail with `reason`. */
  close(reason: string): Promise<unknown> {
    const worker = this.worker;
    this.worker = null;
    this.failAll(new Error(reason));
    return worker ? worker.terminate() : Promise.resolve();
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    waiter.resolve(reply);
  }

  private crashed(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.failAll(error);
    this.hooks.onCrash?.(error);
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
