/** Concurrent senders: HTTP clients pulling bodies from one queue, and pipelined WebSocket streams. */
import WebSocket from 'ws';

export interface SendStats {
  requests: number;
  /** 429s answered with Retry-After and retried. */
  retried: number;
  bytes: number;
}

/** POSTs every body with `clients` concurrent workers; any status other than 2xx or 429 fails the run. */
export async function postAll(url: string, bodies: readonly (Uint8Array | string)[], contentType: string, clients: number): Promise<SendStats> {
  const stats: SendStats = { requests: 0, retried: 0, bytes: 0 };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const body = bodies[i]!;
      for (;;) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: body as RequestInit['body'] });
        const text = await response.text();
        stats.requests++;
        if (response.status === 429) {
          stats.retried++;
          await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after') ?? 1) * 1000));
          continue;
        }
        if (response.status < 200 || response.status > 299) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 300)}`);
        stats.bytes += typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return stats;
}

/**
 * Sends every body over `connections` WebSockets, each keeping up to `pipeline` messages
 * unacknowledged; resolves with the sum of the `{"ok": n}` acks once all arrived.
 */
export async function streamAll(wsUrl: string, bodies: readonly Uint8Array[], connections: number, pipeline: number): Promise<number> {
  let next = 0;
  let applied = 0;
  const connection = () => new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    let inFlight = 0;
    const pump = () => {
      while (inFlight < pipeline && next < bodies.length) {
        ws.send(bodies[next++]!);
        inFlight++;
      }
      if (inFlight === 0) {
        ws.close();
        resolve();
      }
    };
    ws.on('open', pump);
    ws.on('message', (data) => {
      const ack = JSON.parse(String(data)) as { ok?: number; error?: string };
      if (ack.ok === undefined) return reject(new Error(`stream: ${ack.error}`));
      applied += ack.ok;
      inFlight--;
      pump();
    });
    ws.on('error', reject);
    ws.on('close', (code) => { if (inFlight > 0) reject(new Error(`stream closed (${code}) with ${inFlight} messages unacknowledged`)); });
  });
  await Promise.all(Array.from({ length: connections }, connection));
  return applied;
}
