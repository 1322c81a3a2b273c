import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FLUSH_NICE } from '../../src/storage/parquet-worker.ts';
import { createSegmentWriter } from '../../src/storage/segment-writer.ts';
import { threadNice } from '../../src/storage/thread-priority.ts';

const linux = process.platform === 'linux';

/** Nice values of this process' threads, from /proc. */
function threadNices(): (number | null)[] {
  return readdirSync('/proc/self/task').map((tid) => threadNice(`/proc/self/task/${tid}`));
}

describe.skipIf(!linux)('thread priority (Linux: nice is per thread)', () => {
  it('lowers only the calling thread', async () => {
    const before = threadNice();
    // The module is TypeScript: load it in the worker through tsx, as the Parquet worker does.
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const { tsImport } = await import('tsx/esm/api');
        const m = await tsImport(${JSON.stringify(new URL('../../src/storage/thread-priority.ts', import.meta.url).href)}, ${JSON.stringify(import.meta.url)});
        parentPort.postMessage({ lowered: m.lowerThreadPriority(7), nice: m.threadNice() });
      })();
    `, { eval: true });
    const reply = await new Promise<{ lowered: boolean; nice: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(reply).toEqual({ lowered: true, nice: 7 });
    expect(threadNice()).toBe(before);
  });

  it('runs the Parquet flush worker below the threads that serve requests', async () => {
    const own = threadNice();
    const writer = createSegmentWriter('worker');
    const deadline = Date.now() + 30_000;
    while (!threadNices().includes(FLUSH_NICE) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const nices = threadNices();
    await writer.close();
    expect(nices).toContain(FLUSH_NICE);
    expect(threadNice()).toBe(own);
  }, 40_000);
});
