/**
 * The second writer of large range-query answers (result-json.ts): writes the series it is
 * given, comma-separated, into the shared output buffer, then sets the job's state and
 * wakes the waiting thread.
 */
import { parentPort } from 'node:worker_threads';
import { JOB_DONE, JOB_FAILED, StepPrefixes, writeSeries, type EncodeJob } from './result-json.ts';

if (!parentPort) throw new Error('encode-worker.ts runs as a worker thread');
const port = parentPort;

port.on('message', (job: EncodeJob) => {
  const state = new Int32Array(job.control);
  try {
    const out = new Uint8Array(job.output);
    const steps = new Int32Array(job.steps);
    const values = new Float64Array(job.values);
    const prefixes = new StepPrefixes(job.grid);
    let at = 0;
    let o = 0;
    for (let i = 0; i < job.counts.length; i++) {
      const n = job.counts[i];
      if (i > 0) out[at++] = 0x2c;
      at = writeSeries(out, at, job.metrics[i], steps.subarray(o, o + n), values.subarray(o, o + n), prefixes);
      o += n;
    }
    Atomics.store(state, 1, at);
    Atomics.store(state, 0, JOB_DONE);
  } catch {
    Atomics.store(state, 0, JOB_FAILED);
  }
  Atomics.notify(state, 0);
});

port.postMessage('ready');
