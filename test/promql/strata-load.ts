/**
 * Loads series into a running strata server the way a high-throughput client does: msgpack
 * series batches (`{series: [{metric, labels, timestamps, values}], ttl_seconds}`, columns
 * as little-endian float64 bytes) POSTed to /v1/telemetry/events.
 */
import { pack } from 'msgpackr';
import type { SeriesData } from '../../src/promql/source.ts';

export interface LoadOptions {
  /** Samples per request (the server's body limit is 16 MiB; 16 bytes a sample plus labels). */
  samplesPerBatch?: number;
  /** The workloads are historical: a TTL long enough that nothing has expired. */
  ttlSeconds?: number;
  /** Optional bearer token. */
  token?: string;
}

/** Ten years. */
export const HISTORICAL_TTL_SECONDS = 10 * 365 * 86_400;

/** Posts the series (times in ms) in batches of whole series (or of parts of them); resolves when every batch was acknowledged. */
export async function loadSeries(baseUrl: string, series: readonly SeriesData[], opts: LoadOptions = {}): Promise<void> {
  const limit = opts.samplesPerBatch ?? 400_000;
  const ttl = opts.ttlSeconds ?? HISTORICAL_TTL_SECONDS;
  let batch: object[] = [];
  let samples = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const body = pack({ series: batch, ttl_seconds: ttl });
    batch = [];
    samples = 0;
    const headers: Record<string, string> = { 'content-type': 'application/msgpack' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(`${baseUrl}/v1/telemetry/events`, { method: 'POST', headers, body: new Uint8Array(body) });
    if (res.status !== 200) throw new Error(`strata ingest: HTTP ${res.status}: ${await res.text()}`);
  };
  for (const s of series) {
    const { __name__: metric, ...labels } = s.labels;
    batch.push({ metric, labels, timestamps: float64Bytes(s.timestamps), values: float64Bytes(s.values) });
    samples += s.timestamps.length;
    if (samples >= limit) await flush();
  }
  await flush();
}

function float64Bytes(a: Float64Array): Uint8Array {
  const copy = Float64Array.from(a);
  return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
}
