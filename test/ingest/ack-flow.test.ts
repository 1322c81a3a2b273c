/** AckFlow: the stream's ordering and backpressure rules, against a fake socket. */
import { describe, expect, it } from 'vitest';
import { AckFlow, newStreamSession, POLICY_VIOLATION, type AckSocket } from '../../src/server/stream.ts';
import { badRequest } from '../../src/telemetry/errors.ts';

class FakeSocket implements AckSocket {
  sent: string[] = [];
  buffered = 0;
  ended: { code: number; reason: string } | null = null;
  onEnd: () => void = () => {};
  send(message: string): number {
    if (this.ended) throw new Error('send on a closed socket');
    this.sent.push(message);
    return 1;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  end(code: number, reason: string): void {
    this.ended = { code, reason };
    this.onEnd();
  }
}

function deferred() {
  let resolve!: (n: number) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<number>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('AckFlow', () => {
  it('sends acks in message order even when later work finishes first', async () => {
    const flow = new AckFlow({});
    const socket = new FakeSocket();
    const session = newStreamSession();
    const [a, b, c] = [deferred(), deferred(), deferred()];
    flow.receive(socket, session, 10, () => a.promise);
    flow.receive(socket, session, 10, () => b.promise);
    flow.receive(socket, session, 10, () => c.promise);
    c.resolve(3);
    b.reject(badRequest('bad one'));
    await settle();
    expect(socket.sent).toEqual([]);
    a.resolve(1);
    await session.lastAck;
    expect(socket.sent).toEqual(['{"ok":1}', '{"error":"bad one"}', '{"ok":3}']);
    expect(session.inFlight).toBe(0);
  });

  it('answers a synchronous throw and hides internal errors', async () => {
    const flow = new AckFlow({});
    const socket = new FakeSocket();
    const session = newStreamSession();
    flow.receive(socket, session, 10, () => { throw badRequest('sync'); });
    flow.receive(socket, session, 10, () => Promise.reject(new Error('disk on fire at /secret/path')));
    await session.lastAck;
    expect(socket.sent).toEqual(['{"error":"sync"}', '{"error":"internal server error"}']);
  });

  it('refuses messages past the in-flight limit without running them', async () => {
    const flow = new AckFlow({ maxInFlight: 2 });
    const socket = new FakeSocket();
    const session = newStreamSession();
    const pending = [deferred(), deferred()];
    let ran = 0;
    for (const d of pending) flow.receive(socket, session, 10, () => { ran++; return d.promise; });
    flow.receive(socket, session, 10, () => { ran++; return Promise.resolve(1); });
    expect(ran).toBe(2);
    pending.forEach((d) => d.resolve(1));
    await session.lastAck;
    expect(socket.sent[2]).toMatch(/too many unacknowledged messages \(at most 2,/);
  });

  it('refuses a message that would pass the in-flight bytes, but always takes one', async () => {
    const flow = new AckFlow({ maxInFlightBytes: 100 });
    const socket = new FakeSocket();
    const session = newStreamSession();
    const first = deferred();
    flow.receive(socket, session, 500, () => first.promise);
    flow.receive(socket, session, 1, () => Promise.resolve(1));
    first.resolve(7);
    await session.lastAck;
    expect(socket.sent[0]).toBe('{"ok":7}');
    expect(socket.sent[1]).toMatch(/too many unacknowledged messages/);
    flow.receive(socket, session, 50, () => Promise.resolve(2));
    await session.lastAck;
    expect(socket.sent[2]).toBe('{"ok":2}');
    expect(session.inFlightBytes).toBe(0);
  });

  it('holds acks while the send buffer is above the high-water mark and sends them on drain, in order', async () => {
    const flow = new AckFlow({ sendHighWaterBytes: 100, maxUnreadAckBytes: 10_000 });
    const socket = new FakeSocket();
    const session = newStreamSession();
    socket.buffered = 150;
    for (let i = 1; i <= 3; i++) flow.receive(socket, session, 10, () => Promise.resolve(i));
    await session.lastAck;
    expect(socket.sent).toEqual([]);
    expect(session.held).toHaveLength(3);
    socket.buffered = 0;
    flow.drain(socket, session);
    expect(socket.sent).toEqual(['{"ok":1}', '{"ok":2}', '{"ok":3}']);
    // A new ack after the drain goes straight out, behind the earlier ones.
    flow.receive(socket, session, 10, () => Promise.resolve(4));
    await session.lastAck;
    expect(socket.sent.at(-1)).toBe('{"ok":4}');
  });

  it('closes a client whose unread acks pass the bound, and never sends after that', async () => {
    const flow = new AckFlow({ sendHighWaterBytes: 10, maxUnreadAckBytes: 40 });
    const socket = new FakeSocket();
    const session = newStreamSession();
    socket.onEnd = () => flow.close(session);
    socket.buffered = 20;
    for (let i = 0; i < 10; i++) flow.receive(socket, session, 10, () => Promise.resolve(1000 + i));
    await session.lastAck;
    expect(socket.ended).toEqual({ code: POLICY_VIOLATION, reason: 'acknowledgements not read: client too slow' });
    expect(socket.sent).toEqual([]);
    expect(session.held).toEqual([]);
    flow.drain(socket, session);
    flow.receive(socket, session, 10, () => Promise.resolve(1));
    await session.lastAck;
    expect(socket.sent).toEqual([]);
  });
});
