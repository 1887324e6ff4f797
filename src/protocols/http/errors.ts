import { HeraldError, type HeraldErrorCode } from '../../core/errors.js';

/**
 * The one place where an error becomes an HTTP answer (DESIGN.md §7): a `HeraldError` by its
 * code, fastify's own errors (body too large, bad media type, schema validation) by theirs,
 * anything else is a 500. Every error body is `{"error":{"code","message"}}`.
 */

/** Exhaustive on purpose: a new HeraldErrorCode does not compile until it has a status here. */
const STATUS_BY_CODE: Record<HeraldErrorCode, number> = {
  bad_request: 400,
  invalid_stream_name: 400,
  invalid_event: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  stream_not_found: 404,
  not_found: 404,
  stream_exists: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  store_closed: 503,
  unavailable: 503,
  invalid_config: 500,
};

/** The wire codes: every HeraldErrorCode plus `internal` for unexpected failures. */
export type HttpErrorCode = HeraldErrorCode | 'internal';

export interface HttpError {
  status: number;
  code: HttpErrorCode;
  message: string;
  /** Extra response headers (`WWW-Authenticate` on 401). */
  headers?: Record<string, string>;
}

/** Codes for fastify errors that carry only a status. */
const CODE_BY_STATUS: Record<number, HeraldErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'stream_exists',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
}

/** Maps any thrown value to its HTTP answer. `bodyLimit` goes into the 413 message. */
export function toHttpError(err: unknown, bodyLimit: number): HttpError {
  if (err instanceof HeraldError) {
    const status = STATUS_BY_CODE[err.code];
    const error: HttpError = { status, code: err.code, message: err.message };
    if (status === 401) error.headers = { 'www-authenticate': 'Bearer realm="herald"' };
    return error;
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyLikeError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'payload_too_large', message: `the request body is larger than the limit of ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'the Content-Type header is not a valid media type' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'bad_request', message: 'the body length does not match the Content-Length header' };
  }
  if (e.validation !== undefined && typeof e.message === 'string') {
    return { status: 400, code: 'bad_request', message: e.message };
  }
  if (status >= 400 && status < 500) {
    return { status, code: CODE_BY_STATUS[status] ?? 'bad_request', message: typeof e.message === 'string' ? e.message : 'bad request' };
  }
  return { status: 500, code: 'internal', message: 'internal server error' };
}

/** The JSON body of an error answer. */
export function errorBody(code: HttpErrorCode, message: string): string {
  return `{"error":{"code":"${code}","message":${JSON.stringify(message)}}}`;
}

/**
 * Malformed HTTP (bad request line, oversized headers) never reaches a route: node reports it
 * on the socket. Answer in the same error shape, then close, as node itself would.
 */
export function writeClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let reason = 'Bad Request';
  let message = 'malformed HTTP request';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    reason = 'Request Header Fields Too Large';
    message = 'the request headers are larger than the server accepts';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    reason = 'Request Timeout';
    message = 'the request took too long to arrive';
  }
  const body = errorBody('bad_request', message);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
