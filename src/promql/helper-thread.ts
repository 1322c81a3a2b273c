/**
 * The helper thread (helper.ts): runs the jobs it is sent, writing into the shared memory
 * they carry, then sets the job's state and wakes the waiting thread.
 */
import { parentPort } from 'node:worker_threads';
import { JOB_DONE, JOB_FAILED, type HelperJob } from './helper.ts';
import { runRangeJob, type RangeJob } from './range-loops.ts';
import { runEncodeJob, type EncodeJob } from './result-json.ts';

if (!parentPort) throw new Error('helper-thread.ts runs as a worker thread');
const port = parentPort;

port.on('message', (job: HelperJob) => {
  const state = new Int32Array(job.control);
  try {
    const result = job.kind === 'encode' ? runEncodeJob(job as EncodeJob) : runRangeJob(job as RangeJob);
    Atomics.store(state, 1, result);
    Atomics.store(state, 0, JOB_DONE);
  } catch {
    Atomics.store(state, 0, JOB_FAILED);
  }
  Atomics.notify(state, 0);
});

port.postMessage('ready');
