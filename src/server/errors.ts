import { ApiError } from '../telemetry/errors.ts';

/** One error class for the whole server: the feature modules' own (status + detail). */
export { ApiError };

/**
 * True for ApiError and for any error of the same shape, so an error from a module that
 * declares its own class is still answered with its status rather than as a 500.
 */
export function isApiError(error: unknown): error is ApiError {
  if (error instanceof ApiError) return true;
  if (!(error instanceof Error)) return false;
  const { status, detail } = error as Partial<ApiError>;
  return Number.isInteger(status) && status! >= 400 && status! <= 599 && typeof detail === 'string';
}
