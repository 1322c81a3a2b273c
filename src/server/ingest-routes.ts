/** The HTTP ingest routes (SPEC §2, §3): log_event in both revisions, JSON or msgpack, one event, a batch or series. */
import type { DecodePool } from '../telemetry/decode-pool.ts';
import type { Server } from './app.ts';
import { ok, type RouteOptions, type RouteRequest } from './http.ts';
import type { IngestGate } from './overload.ts';
import { isMsgpackMediaType } from './request.ts';

export interface IngestRoutesContext {
  gate: IngestGate;
  /** Decodes bodies, large ones on its threads. */
  decoder: DecodePool;
  defaultTtlSeconds: number;
}

export function registerIngestRoutes(server: Server, ctx: IngestRoutesContext): void {
  const logEvent = async (req: RouteRequest) => {
    const format = isMsgpackMediaType(req.contentType) ? 'msgpack' : 'json';
    try {
      await ctx.gate.accept('http', req.body?.byteLength ?? 0, () => ctx.decoder.decode(req.body, format, ctx.defaultTtlSeconds));
    } finally {
      // A body read into a decode thread's slot (bodyBuffers) that the gate refused before decoding.
      ctx.decoder.release(req.body);
    }
    return ok(null);
  };
  // A chunked body of unknown length counts as empty here; the gate checks its real size once read.
  const options: RouteOptions = {
    beforeBody: (_headers, declaredLength) => ctx.gate.checkRoom(declaredLength ?? 0, 'http'),
    bodyBuffers: ctx.decoder.bodyBuffers,
  };
  server.route('POST', '/v1/telemetry/events', logEvent, options);
  server.route('POST', '/alpha/telemetry/log-event', logEvent, options);
}
