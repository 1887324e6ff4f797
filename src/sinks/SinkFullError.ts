/**
 * Rejects a write to a BoundedQueue with the 'drop-newest' policy when the queue is full: the
 * event was not accepted and was dropped (and counted). Not terminal: a later write may succeed.
 */
export class SinkFullError extends Error {
  /** The capacity of the queue that refused the event. */
  readonly capacity: number;

  constructor(capacity: number) {
    super(`events: sink full (capacity ${capacity})`);
    this.name = 'SinkFullError';
    this.capacity = capacity;
  }
}
