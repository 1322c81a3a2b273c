/**
 * The store's own gauges for /metrics (SPEC §6: segments, bytes, WAL lag), read at scrape time:
 * what a soak run watches for leaks — indexes, segments and heads, the WAL, flushes.
 */
import type { Store } from '../store.ts';
import type { MetricsRegistry } from './metrics-registry.ts';


export function registerStoreMetrics(registry: MetricsRegistry, store: Store): void {
  registry.gauge({ name: 'strata_spans_indexed', help: 'Spans in the span index (live or expired but not yet swept).', collect: (g) => g.set(store.spans.size) });
  registry.gauge({ name: 'strata_traces_indexed', help: 'Traces in the span index.', collect: (g) => g.set(store.spans.traceCount) });
  registry.gauge({
    name: 'strata_segments', help: 'Sealed segments in memory, by table.', labelNames: ['table'],
    collect: (g) => {
      g.labels('metrics').set(store.metrics.segments.length);
      g.labels('span_events').set(store.spanEvents.segments.length);
      g.labels('logs').set(store.logs.segments.length);
    },
  });
  registry.gauge({
    name: 'strata_head_rows', help: 'Rows in the mutable heads (not yet sealed), by table.', labelNames: ['table'],
    collect: (g) => {
      g.labels('metrics').set(store.metrics.head.rows);
      g.labels('span_events').set(store.spanEvents.headRows);
      g.labels('logs').set(store.logs.headRows);
    },
  });
  const counters = store.counters;
  registry.gauge({ name: 'strata_segments_sealed', help: 'Segments sealed since start.', collect: (g) => g.set(counters.segmentsSealed) });
  registry.gauge({ name: 'strata_segments_dropped', help: 'Segments dropped (expired) since start.', collect: (g) => g.set(counters.segmentsDropped) });
  registry.gauge({ name: 'strata_segments_compacted', help: 'Segments rebuilt in memory from their live rows (mixed TTLs) since start.', collect: (g) => g.set(counters.segmentsCompacted) });
  registry.gauge({ name: 'strata_segments_merged', help: 'Small segments merged in memory into larger ones since start.', collect: (g) => g.set(counters.segmentsMerged) });
  registry.gauge({
    name: 'strata_wal_bytes', help: 'Bytes of WAL files on disk (rows not yet in a flushed segment, and the file being written).',
    collect: (g) => g.set(store.durabilityStats()?.wal.bytes ?? 0),
  });
  registry.gauge({ name: 'strata_wal_files', help: 'WAL files on disk.', collect: (g) => g.set(store.durabilityStats()?.wal.files ?? 0) });
  registry.gauge({ name: 'strata_segment_files', help: 'Segment files (Parquet) of this node on disk.', collect: (g) => g.set(store.durabilityStats()?.segmentFiles ?? 0) });
  registry.gauge({ name: 'strata_pending_flushes', help: 'Sealed segments not yet written to Parquet.', collect: (g) => g.set(store.durabilityStats()?.pendingFlushes ?? 0) });
}
