/**
 * `GET /v1/telemetry/stream`: ingest over a WebSocket (SPEC §3). Each message is one ingest
 * body (binary = msgpack, text = JSON) in any shape the HTTP route takes; each is answered,
 * in order, with `{"ok": n}` (events and samples applied) once its batch is durable, or with
 * `{"error": "..."}` when it was refused (nothing of it applied).
 *
 * Messages are decoded as they arrive and their batches go to the WAL concurrently (so they
 * share group commits); only the acknowledgements wait for each other, to keep their order.
 *
 * Backpressure, both ways, per connection:
 * - a client may have `maxInFlight` messages or `maxInFlightBytes` unacknowledged; past that
 *   a message is refused with an error ack, and the gate's 429 bound applies as on HTTP (uWS
 *   cannot pause reading, so refusing is how a connection is held to its share);
 * - acks are held back while the socket's send buffer is above `sendHighWaterBytes` and
 *   written on `drain`; a client that leaves more than `maxUnreadAckBytes` unread is closed
 *   (1008): it is not reading its acks, and holding them would grow memory without bound.
 * Nothing is sent on a closed socket: `close` marks the session and pending acks are dropped.
 */
import type { DecodePool } from '../telemetry/decode-pool.ts';
import type { Server } from './app.ts';
import { isApiError } from './errors.ts';
import type { MetricsRegistry } from './metrics-registry.ts';
import type { IngestGate } from './overload.ts';
import { log } from '../log.ts';

export const STREAM_PATH = '/v1/telemetry/stream';

export interface StreamOptions {
  /** Largest message accepted; uWS closes a connection that sends a larger one. */
  maxMessageBytes: number;
  defaultTtlSeconds: number;
  /** Unacknowledged messages per connection. Default 1024. */
  maxInFlight?: number;
  /** Unacknowledged message bytes per connection (one message is always taken). Default 4 × maxMessageBytes. */
  maxInFlightBytes?: number;
  /** Send-buffer level above which acks wait for `drain`. Default 64 KiB. */
  sendHighWaterBytes?: number;
  /** Acks a client may leave unread (socket buffer + held back) before it is closed. Default 1 MiB. */
  maxUnreadAckBytes?: number;
}

/** The per-connection state: uWS's user data. */
export interface StreamSession {
  closed: boolean;
  inFlight: number;
  inFlightBytes: number;
  /** Acks held back by backpressure, in order, and their total length. */
  held: string[];
  heldBytes: number;
  /** Settles when the previous message's ack has been handed on: acks go out in message order. */
  lastAck: Promise<void>;
}

/** What the session logic needs of a uWS WebSocket (a fake in tests). */
export interface AckSocket {
  send(message: string): number;
  getBufferedAmount(): number;
  end(code: number, reason: string): void;
}

export const POLICY_VIOLATION = 1008;

export function newStreamSession(): StreamSession {
  return { closed: false, inFlight: 0, inFlightBytes: 0, held: [], heldBytes: 0, lastAck: Promise.resolve() };
}

export function registerIngestStream(server: Server, gate: IngestGate, decoder: DecodePool, options: StreamOptions): void {
  const flow = new AckFlow({ maxInFlightBytes: 4 * options.maxMessageBytes, ...options });
  const connections = trackConnections(server.metrics);
  const ingestMessage = (bytes: Uint8Array, isBinary: boolean) =>
    gate.accept('stream', bytes.byteLength, () => decoder.decode(bytes, isBinary ? 'msgpack' : 'json', options.defaultTtlSeconds));

  server.ws<StreamSession>(STREAM_PATH, {
    maxPayloadLength: options.maxMessageBytes,
    // Our own limits (AckFlow, far lower) decide when a reader is too slow; uWS must never drop an ack.
    maxBackpressure: 2 ** 30,
    closeOnBackpressureLimit: 0,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    open: () => connections.inc(),
    // The ArrayBuffer is only valid during this call: the decoder decodes now or copies the bytes now.
    message: (ws, message, isBinary) => flow.receive(ws, ws.getUserData(), message.byteLength, () => ingestMessage(new Uint8Array(message), isBinary)),
    drain: (ws) => flow.drain(ws, ws.getUserData()),
    close: (ws) => {
      connections.dec();
      flow.close(ws.getUserData());
    },
  }, newStreamSession);
}

/** Ordering and backpressure of acknowledgements; independent of uWS so it can be tested with a fake socket. */
export class AckFlow {
  private readonly maxInFlight: number;
  private readonly maxInFlightBytes: number;
  private readonly highWater: number;
  private readonly maxUnread: number;

  constructor(options: Pick<StreamOptions, 'maxInFlight' | 'maxInFlightBytes' | 'sendHighWaterBytes' | 'maxUnreadAckBytes'>) {
    this.maxInFlight = options.maxInFlight ?? 1024;
    this.maxInFlightBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
    this.highWater = options.sendHighWaterBytes ?? 64 * 1024;
    this.maxUnread = options.maxUnreadAckBytes ?? 1024 * 1024;
  }

  /** Starts the work of one message of `bytes` (synchronously, within the message callback) and queues its ack. */
  receive(socket: AckSocket, session: StreamSession, bytes: number, work: () => Promise<number>): void {
    if (session.closed) return;
    const outcome = this.tooMuchInFlight(session, bytes)
      ? Promise.resolve(errorAck(`too many unacknowledged messages (at most ${this.maxInFlight}, ${this.maxInFlightBytes} bytes): wait for acks before sending more`))
      : runWork(work);
    session.inFlight++;
    session.inFlightBytes += bytes;
    const previous = session.lastAck;
    session.lastAck = Promise.all([outcome, previous])
      .then(([ack]) => {
        session.inFlight--;
        session.inFlightBytes -= bytes;
        this.deliver(socket, session, ack);
      })
      .catch((error) => log.error('stream: sending an acknowledgement failed', { error }));
  }

  private tooMuchInFlight(session: StreamSession, bytes: number): boolean {
    if (session.inFlight >= this.maxInFlight) return true;
    return session.inFlightBytes > 0 && session.inFlightBytes + bytes > this.maxInFlightBytes;
  }

  drain(socket: AckSocket, session: StreamSession): void {
    while (!session.closed && session.held.length > 0 && socket.getBufferedAmount() < this.highWater) {
      const ack = session.held.shift()!;
      session.heldBytes -= ack.length;
      socket.send(ack);
    }
  }

  close(session: StreamSession): void {
    session.closed = true;
    session.held = [];
    session.heldBytes = 0;
  }

  private deliver(socket: AckSocket, session: StreamSession, ack: string): void {
    if (session.closed) return;
    const buffered = socket.getBufferedAmount();
    if (session.held.length === 0 && buffered < this.highWater) {
      socket.send(ack);
      return;
    }
    if (buffered + session.heldBytes + ack.length > this.maxUnread) {
      this.close(session);
      // Calls the close handler synchronously; the session is already marked, so nothing more is sent.
      socket.end(POLICY_VIOLATION, 'acknowledgements not read: client too slow');
      return;
    }
    session.held.push(ack);
    session.heldBytes += ack.length;
  }
}

function runWork(work: () => Promise<number>): Promise<string> {
  let started: Promise<number>;
  try {
    started = work();
  } catch (error) {
    return Promise.resolve(errorAckFor(error));
  }
  return started.then((n) => `{"ok":${n}}`, errorAckFor);
}

function errorAckFor(error: unknown): string {
  if (isApiError(error)) return errorAck(error.detail);
  log.error('stream message failed', { error });
  return errorAck('internal server error');
}

function errorAck(detail: string): string {
  return JSON.stringify({ error: detail });
}

function trackConnections(metrics: MetricsRegistry) {
  return metrics.gauge({ name: 'strata_stream_connections', help: 'Open WebSocket ingest streams.' });
}
