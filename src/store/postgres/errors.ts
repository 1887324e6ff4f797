import { HeraldError } from '../../core/errors.js';

/**
 * How the postgres store reads a failure from postgres.js: a lost connection (the node should
 * turn unready and probe until the database is back), a server error that certainly rolled the
 * transaction back and may simply be retried, or anything else.
 */

/** Client-side codes postgres.js and Node use for a connection that is gone or never came. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
]);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * True when the database cannot be reached: the client could not connect, the connection broke,
 * or the server says it is shutting down / starting up (SQLSTATE 57P0x, class 08).
 */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  return CONNECTION_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}

/** A statement cut off because the store itself ended its client (a replaced or closed connection set). */
export function isOwnDisconnect(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'CONNECTION_ENDED' || code === 'CONNECTION_DESTROYED';
}

/**
 * True when the server reported that it aborted the statement, so nothing of it committed and
 * running it again is safe: a deadlock, a serialization failure, a unique violation from a
 * concurrent append of the same event id (the retry then finds it stored), or a connection the
 * server terminated before running the statement (as after a database restart).
 */
export function isRetryable(err: unknown): boolean {
  const code = codeOf(err);
  return code === '40P01' || code === '40001' || code === '23505' || code === '57P01' || code === '57P02' || code === '57P03';
}

/** A HeraldError for the protocols (503) that keeps the cause's message. */
export function unavailable(err: unknown, what = 'the database'): HeraldError {
  if (err instanceof HeraldError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HeraldError('unavailable', `${what} is unavailable (${message})`);
}
