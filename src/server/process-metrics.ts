import type { MetricsRegistry } from './metrics-registry.ts';

/** The standard process gauges, read from Node at scrape time. */
export function registerProcessMetrics(registry: MetricsRegistry): void {
  const startTimeSeconds = Math.floor(Date.now() / 1000 - process.uptime());
  registry.gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, in seconds.',
    collect: (gauge) => gauge.set(startTimeSeconds),
  });
  registry.gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    collect: (gauge) => gauge.set(process.memoryUsage.rss()),
  });
  registry.gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use, in bytes.',
    collect: (gauge) => gauge.set(process.memoryUsage().heapUsed),
  });
  registry.gauge({
    name: 'nodejs_heap_total_bytes',
    help: 'V8 heap allocated, in bytes.',
    collect: (gauge) => gauge.set(process.memoryUsage().heapTotal),
  });
  // The columnar data lives in typed arrays: outside the V8 heap, in ArrayBuffers.
  registry.gauge({
    name: 'nodejs_external_memory_bytes',
    help: 'Memory of C++ objects bound to JavaScript (ArrayBuffers included), in bytes.',
    collect: (gauge) => gauge.set(process.memoryUsage().external),
  });
  registry.gauge({
    name: 'nodejs_array_buffers_bytes',
    help: 'Memory of ArrayBuffers and SharedArrayBuffers, in bytes.',
    collect: (gauge) => gauge.set(process.memoryUsage().arrayBuffers),
  });
}
