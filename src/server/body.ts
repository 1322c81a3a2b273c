import { ApiError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { copyIntoShared } from '../storage/bytes.ts';

/**
 * Room a route offers for its bodies (e.g. shared memory a decode thread reads): `take` gives
 * a view of exactly `length` bytes or null (then a fresh buffer is used); a body that is not
 * handed on whole (the read failed, or it came out shorter) goes back through `release`.
 */
export interface BodyBuffers {
  take(length: number): Uint8Array | null;
  release(bytes: Uint8Array): void;
}

export interface BodyLimits {
  maxBytes: number;
  /** A body still incomplete after this long is answered 408 (slow-loris protection). */
  timeoutMs: number;
}

/** Rejects a body read whose client went away; nothing can be written back, so nothing is. */
export class RequestAbortedError extends Error {
  constructor() {
    super('client closed the connection before the request body was complete');
  }
}

/**
 * How many body bytes the headers announce: a number for Content-Length, null for a chunked
 * body of unknown length, 0 when there is no body.
 */
export function declaredBodyLength(headers: Readonly<Record<string, string>>): number | null {
  const contentLength = headers['content-length'];
  if (contentLength !== undefined) {
    if (!/^\d+$/.test(contentLength)) throw new ApiError(400, `invalid Content-Length: ${contentLength}`);
    return Number(contentLength);
  }
  return headers['transfer-encoding']?.toLowerCase().includes('chunked') ? null : 0;
}

export function bodyLimitError(maxBytes: number): ApiError {
  return new ApiError(413, `request body exceeds the limit of ${maxBytes} bytes`);
}

/**
 * Reads the whole body, enforcing the size limit while it streams in. uWS reuses each chunk's
 * ArrayBuffer after the callback returns, so chunks are copied: straight into one buffer of the
 * announced size when Content-Length is known, else into a list joined at the end.
 * Resolves to null for an empty body. On 413/408 the rest of the body is never read, so the
 * connection is marked to close after the response.
 */
export function readBody(exchange: Exchange, declaredLength: number | null, limits: BodyLimits, buffers?: BodyBuffers): Promise<Uint8Array | null> {
  if (declaredLength === 0) return Promise.resolve(null);
  if (declaredLength !== null && declaredLength > limits.maxBytes) {
    exchange.closeConnection = true;
    return Promise.reject(bodyLimitError(limits.maxBytes));
  }
  return new Promise((resolve, reject) => {
    const offered = declaredLength === null ? null : buffers?.take(declaredLength) ?? null;
    const sized = offered ?? (declaredLength === null ? null : new Uint8Array(declaredLength));
    const chunks: Uint8Array[] = [];
    let received = 0;
    let settled = false;

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (offered) buffers!.release(offered);
      exchange.closeConnection = true;
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new ApiError(408, `request body not complete within ${limits.timeoutMs / 1000} seconds`)),
      limits.timeoutMs,
    );
    exchange.onAbort = () => fail(new RequestAbortedError());

    exchange.res.onData((chunk, isLast) => {
      if (settled) return;
      const bytes = new Uint8Array(chunk);
      if (received + bytes.byteLength > limits.maxBytes) return fail(bodyLimitError(limits.maxBytes));
      if (sized) {
        if (received + bytes.byteLength > sized.byteLength) return fail(new ApiError(400, 'request body longer than its Content-Length'));
        if (offered) copyIntoShared(offered, bytes, received);
        else sized.set(bytes, received);
      } else if (bytes.byteLength > 0) {
        chunks.push(bytes.slice());
      }
      received += bytes.byteLength;
      if (!isLast) return;
      settled = true;
      clearTimeout(timer);
      exchange.onAbort = null;
      if (offered && received !== offered.length) {
        // Handed on only whole (the route knows the view it was given); a shorter body is copied out.
        const copy = offered.slice(0, received);
        buffers!.release(offered);
        resolve(received === 0 ? null : copy);
      } else if (received === 0) resolve(null);
      else resolve(sized ? (received === sized.length ? sized : sized.subarray(0, received)) : joinChunks(chunks, received));
    });
  });
}

function joinChunks(chunks: Uint8Array[], totalBytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const joined = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}
