/**
 * The one error type that crosses protocol boundaries. Each protocol maps `code` to its own
 * error shape in exactly one place (for HTTP: protocols/http/errors.ts).
 */
export type HeraldErrorCode =
  | 'bad_request'
  | 'invalid_stream_name'
  | 'invalid_event'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'stream_not_found'
  | 'stream_exists'
  | 'not_found'
  /** The request conflicts with the current state (e.g. editing a subscription defined in config). */
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'store_closed'
  | 'unavailable'
  /** A configuration that must not run (e.g. binding beyond loopback with no access tokens). */
  | 'invalid_config';

export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  constructor(
    readonly code: HeraldErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isHeraldError(err: unknown): err is HeraldError {
  return err instanceof HeraldError;
}
