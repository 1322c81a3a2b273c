import { connect } from 'node:net';
import { createServer, type Server, type ServerOptions } from '../../src/server/app.ts';

export interface TestServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A real server on a free port; `setup` registers the routes under test before it listens. */
export async function startTestServer(setup: (server: Server) => void, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const server = createServer({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1024, ...options });
  setup(server);
  const port = await server.listen();
  return { server, port, url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/**
 * Sends raw bytes over a fresh TCP connection and collects everything the server sends back
 * until it closes the connection or `waitMs` passes. For what fetch cannot express: partial
 * bodies, hand-made chunked encoding, a client vanishing mid-body.
 */
export function rawExchange(port: number, payload: string | Buffer, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, waitMs);
    socket.on('data', (data) => { received += data.toString('latin1'); });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (received) resolve(received);
      else reject(error);
    });
    socket.write(payload);
  });
}

/** Opens a connection, sends `payload`, and destroys the socket after `afterMs`. */
export function sendAndVanish(port: number, payload: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(payload);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, afterMs);
    });
    socket.on('error', () => {});
  });
}

/** The status code and parsed JSON body of a raw HTTP/1.1 response. */
export function parseRawResponse(raw: string): { status: number; headers: string; body: unknown } {
  const headerEnd = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, headerEnd);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const text = raw.slice(headerEnd + 4);
  return { status, headers: head.toLowerCase(), body: text ? JSON.parse(text) : undefined };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
