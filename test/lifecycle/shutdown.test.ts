/**
 * Graceful lifecycle of `strata serve`, as a child process: SIGTERM (and SIGINT) stops
 * accepting connections, lets in-flight requests finish, flushes the store and exits 0; a
 * second signal exits at once; a request that never finishes is cut off after the drain
 * timeout. Everything acknowledged is there after a restart.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type Serving } from './child.ts';

const dirs: string[] = [];
const children: Serving[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-lifecycle-'));
  dirs.push(dir);
  return dir;
}

async function start(dir: string, args: string[] = []): Promise<Serving> {
  const s = await serve(dir, args);
  children.push(s);
  return s;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const now = () => new Date().toISOString();
const spanStart = (trace: string, span: string) =>
  ({ type: 'structured_log', trace_id: trace, span_id: span, timestamp: now(), payload: { type: 'span_start', name: 'op' } });

async function post(url: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** A request whose body is sent in two parts: resolves `sendRest` to finish it and `answer` to the raw reply. */
function halfSentRequest(port: number, path: string, body: string) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  const half = Math.floor(body.length / 2);
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (d) => { received += d.toString(); });
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
  });
  const ready = new Promise<void>((resolve) => socket.on('connect', () => {
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`, () => resolve());
  }));
  return { ready, answer, sendRest: () => socket.write(body.slice(half)) };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function parquetFiles(dir: string): string[] {
  return readdirSync(join(dir, 'segments'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet'));
}

describe('SIGTERM', () => {
  it('stops accepting, drains an in-flight request, flushes to Parquet, exits 0; all of it is there after a restart', async () => {
    const dir = dataDir();
    const s = await start(dir, ['--segment-max-age-ms', '600000']);
    expect(await post(s.url, '/v1/telemetry/events', { events: [spanStart('before', 'b1'), spanStart('before', 'b2')] })).toBe(200);

    const inFlight = halfSentRequest(s.port, '/v1/telemetry/events', JSON.stringify({ events: [spanStart('during', 'd1')] }));
    await inFlight.ready;
    await new Promise((r) => setTimeout(r, 100));
    s.child.kill('SIGTERM');
    // New connections are refused once the listen socket is closed…
    const deadline = Date.now() + 5000;
    while (await canConnect(s.port) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await canConnect(s.port)).toBe(false);
    expect(s.child.exitCode).toBeNull();
    // …while the request already in flight is finished and acknowledged.
    inFlight.sendRest();
    expect(await inFlight.answer).toMatch(/^HTTP\/1\.1 200/);
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    expect(s.stderr()).toContain('SIGTERM received: shutting down');
    expect(s.stderr()).toMatch(/stopped.*exitCode.*0/);
    // The head was sealed and flushed (the age threshold was never reached).
    expect(parquetFiles(dir).some((f) => f.includes('table=span_events'))).toBe(true);

    const again = await start(dir);
    for (const trace of ['before', 'during']) expect((await fetch(`${again.url}/v1/telemetry/traces/${trace}`)).status, trace).toBe(200);
    for (const span of ['b1', 'b2']) expect((await fetch(`${again.url}/v1/telemetry/traces/before/spans/${span}`)).status).toBe(200);
    expect((await fetch(`${again.url}/v1/telemetry/traces/during/spans/d1`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  it('SIGINT does the same', async () => {
    const s = await start(dataDir());
    expect(await post(s.url, '/v1/telemetry/events', { event: spanStart('t', 's') })).toBe(200);
    s.child.kill('SIGINT');
    expect((await s.exited).code).toBe(0);
    expect(s.stderr()).toContain('SIGINT received: shutting down');
  });

  it('takes a signal delivered twice at once (Ctrl-C under npm start: terminal + tsx relay) as one', async () => {
    const s = await start(dataDir());
    expect(await post(s.url, '/v1/telemetry/events', { event: spanStart('t', 's') })).toBe(200);
    s.child.kill('SIGINT');
    // Apart enough to be delivered as two signals (pending ones would merge into one).
    await new Promise((r) => setTimeout(r, 30));
    s.child.kill('SIGINT');
    expect((await s.exited).code).toBe(0);
    expect(s.stderr()).not.toContain('again: exiting');
  });

  it('a second SIGTERM exits at once, without waiting for the drain', async () => {
    const s = await start(dataDir(), ['--shutdown-timeout-ms', '60000', '--body-timeout-ms', '60000']);
    const stuck = halfSentRequest(s.port, '/v1/telemetry/events', JSON.stringify({ events: [spanStart('stuck', 's1')] }));
    await stuck.ready;
    await new Promise((r) => setTimeout(r, 100));
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.child.exitCode).toBeNull(); // still draining: the stuck request holds it
    const secondAt = performance.now();
    s.child.kill('SIGTERM');
    const exit = await s.exited;
    expect(exit.code).toBe(128 + 15);
    expect(exit.at - secondAt).toBeLessThan(3000);
    expect(s.stderr()).toContain('SIGTERM again: exiting without waiting for shutdown');
  });

  it('a request that never finishes is cut off after the drain timeout; the exit is still clean', async () => {
    const dir = dataDir();
    const s = await start(dir, ['--shutdown-timeout-ms', '500', '--body-timeout-ms', '60000']);
    expect(await post(s.url, '/v1/telemetry/events', { event: spanStart('kept', 'k1') })).toBe(200);
    const stuck = halfSentRequest(s.port, '/v1/telemetry/events', JSON.stringify({ events: [spanStart('stuck', 's1')] }));
    await stuck.ready;
    await new Promise((r) => setTimeout(r, 200));
    const sentAt = performance.now();
    s.child.kill('SIGTERM');
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - sentAt).toBeLessThan(10_000);
    expect(s.stderr()).toMatch(/in-flight requests still running after the drain timeout/);
    expect(await stuck.answer).not.toMatch(/^HTTP\/1\.1 200/);
    const again = await start(dir);
    expect((await fetch(`${again.url}/v1/telemetry/traces/kept`)).status).toBe(200);
    expect((await fetch(`${again.url}/v1/telemetry/traces/stuck`)).status).toBe(404);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });
});
