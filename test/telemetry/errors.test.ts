import { describe, expect, it } from 'vitest';
import { ApiError, badRequest, forbidden, notFound, payloadTooLarge, unauthorized } from '../../src/telemetry/errors.ts';

describe('ApiError helpers', () => {
  it.each([
    [badRequest('limit: expected integer >= 0'), 400, 'limit: expected integer >= 0'],
    [unauthorized(), 401, 'missing or invalid bearer token'],
    [forbidden(), 403, 'the token lacks the scope this route needs'],
    [forbidden('needs telemetry.write'), 403, 'needs telemetry.write'],
    [notFound('Trace abc not found'), 404, 'Trace abc not found'],
    [payloadTooLarge(), 413, 'request body too large'],
  ])('%s', (error, status, detail) => {
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(status);
    expect(error.detail).toBe(detail);
    expect(error.message).toBe(detail);
  });
});
