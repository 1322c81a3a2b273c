/** "Every sample is queryable": counting what each system answers for the workload. */
import type { Workload } from './workload.ts';

/** Samples a Prometheus-compatible /api/v1/query counts over the workload's time range; null when the route is not served. */
export async function promqlSampleCount(url: string, workload: Workload): Promise<number | null> {
  const windowSeconds = Math.ceil((workload.endMs - workload.startMs) / 1000) + 60;
  const at = Math.ceil(workload.endMs / 1000) + 1;
  const query = `sum(count_over_time({__name__=~"${workload.metricPrefix}.+"}[${windowSeconds}s]))`;
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${at}`);
  if (response.status === 404) return null;
  const body = await response.json() as { status: string; data?: { result: { value: [number, string] }[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: count query failed: ${body.error}`);
  return body.data!.result.length === 0 ? 0 : Number(body.data!.result[0]!.value[1]);
}

/**
 * Without PromQL: one Llama Stack instant query per metric name sums every series over the
 * range; a series counts as complete when its sum is the workload's (values are 1..4, so a
 * missing sample always shows). Returns the samples of the complete series.
 */
export async function llamaStackVerifiedSamples(url: string, workload: Workload): Promise<number> {
  const names = [...new Set(workload.seriesDefs.map((d) => d.metric))];
  const indexOf = new Map(workload.seriesDefs.map((d, i) => [d.labels.instance, i]));
  let complete = 0;
  for (const name of names) {
    const response = await fetch(`${url}/v1/telemetry/metrics/${name}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start_time: Math.floor(workload.startMs / 1000), end_time: Math.ceil(workload.endMs / 1000) + 1, query_type: 'instant' }),
    });
    const { data } = await response.json() as { data: { labels: { name: string; value: string }[]; values: { value: number }[] }[] };
    for (const series of data) {
      const instance = series.labels.find((l) => l.name === 'instance')?.value;
      const index = instance === undefined ? undefined : indexOf.get(instance);
      if (index !== undefined && series.values[0]?.value === workload.expectedSum(index)) complete++;
    }
  }
  return complete * workload.shape.samplesPerSeries;
}

/** strata: PromQL when the server has it, else the per-series sums. */
export async function strataQueryableSamples(url: string, workload: Workload): Promise<number> {
  return (await promqlSampleCount(url, workload)) ?? llamaStackVerifiedSamples(url, workload);
}

/** VictoriaMetrics: flush what was just written to searchable parts, then count (polling briefly). */
export async function victoriaMetricsQueryableSamples(url: string, workload: Workload): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await fetch(`${url}/internal/force_flush`);
    const count = (await promqlSampleCount(url, workload)) ?? 0;
    if (count >= workload.totalSamples || Date.now() > deadline) return count;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Traces query_traces returns (all of them, one page). */
export async function strataTraceCount(url: string, limit: number): Promise<number> {
  const response = await fetch(`${url}/v1/telemetry/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit }) });
  return ((await response.json()) as { data: unknown[] }).data.length;
}
