/**
 * Decides how a RetryingSink paces and gives up on writes (go-events' RetryStrategy). A strategy
 * may be shared by several RetryingSinks; writes to one RetryingSink run concurrently.
 */
export interface RetryStrategy<E = unknown> {
  /** Called before every attempt; a positive result is the number of milliseconds to wait first. */
  proceed(event: E): number;
  /** Reports a failed attempt; true means drop the event (the write then resolves), false retry. */
  failure(event: E, error: unknown): boolean;
  /** Reports a successful attempt. */
  success(event: E): void;
}
