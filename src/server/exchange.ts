import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';
import { log } from '../log.ts';

/**
 * One request/response pair over a uWS response. uWS frees the response when the client goes
 * away (onAborted) or once it has ended, and touching it after that crashes the process, so
 * every write goes through `write`, which checks both and corks the writes into one syscall.
 */
export class Exchange {
  aborted = false;
  ended = false;
  /** The status written, 0 until then. */
  status = 0;
  /** Set when the request body was left unread (413, 408): the connection cannot be reused. */
  closeConnection = false;
  /** Lets a pending body read give up at once instead of waiting for its timeout. */
  onAbort: (() => void) | null = null;

  constructor(readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
      this.onAbort?.();
    });
  }

  get open(): boolean {
    return !this.aborted && !this.ended;
  }

  write(status: number, headers: Record<string, string>, body: string | Uint8Array): void {
    if (!this.open) return;
    this.ended = true;
    this.status = status;
    const res = this.res;
    try {
      res.cork(() => {
        res.writeStatus(statusLine(status));
        for (const name in headers) res.writeHeader(name, headers[name]!);
        res.end(body, this.closeConnection);
      });
    } catch (error) {
      // e.g. a header value uWS refuses: a half-written response must not leave the client hanging.
      log.error('writing the response failed', { status, error });
      if (!this.aborted) res.close();
    }
  }
}

const statusLines = new Map<number, string>();

function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    statusLines.set(status, line);
  }
  return line;
}
