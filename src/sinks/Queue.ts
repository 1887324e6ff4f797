import type { ErrorHandler } from './ErrorHandler.js';
import { closeDestination } from './internal/closeDestination.js';
import { Pump } from './internal/Pump.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/** Options of a Queue. */
export interface QueueOptions<E> {
  /** Called when the destination rejects an event (which is then dropped, not retried). */
  onError?: ErrorHandler<E>;
}

/** Counters of a Queue. */
export interface QueueStats {
  /** Events accepted by write. */
  readonly written: number;
  /** Events the destination accepted. */
  readonly delivered: number;
  /** Events the destination rejected (dropped, not retried). */
  readonly failed: number;
  /** Events waiting in the queue. */
  readonly length: number;
  /** 1 while an event is being written to the destination, else 0. */
  readonly inFlight: number;
}

/**
 * An unbounded FIFO in front of `dst`: writers never wait, and one worker writes the events to
 * `dst` one at a time, in order. A destination error drops that event (counted, reported to
 * `onError`); pair with a RetryingSink for retries, or use BoundedQueue to cap memory.
 */
export class Queue<E = unknown> implements Sink<E> {
  readonly #dst: Sink<E>;
  readonly #pump: Pump<E>;
  #written = 0;
  #closed: Promise<void> | undefined;

  /** Creates a queue writing to `dst`. */
  constructor(dst: Sink<E>, options: QueueOptions<E> = {}) {
    this.#dst = dst;
    this.#pump = new Pump(dst, options.onError);
  }

  /** Appends `event`; resolves at once, rejects with SinkClosedError once closed. */
  write(event: E): Promise<void> {
    if (this.#closed) return Promise.reject(new SinkClosedError());
    this.#written++;
    this.#pump.push(event);
    return Promise.resolve();
  }

  /**
   * Stops accepting events, waits until every queued event has been handed to the destination
   * (and its write settled), then closes the destination and rejects with its error, unless that
   * is SinkClosedError. A second call resolves once the first is done.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed.then(noop, noop);
    this.#closed = this.#pump.idle().then(() => closeDestination(this.#dst));
    return this.#closed;
  }

  /** A snapshot of the counters. */
  stats(): QueueStats {
    return {
      written: this.#written,
      delivered: this.#pump.delivered,
      failed: this.#pump.failed,
      length: this.#pump.events.length,
      inFlight: this.#pump.inFlight,
    };
  }
}

function noop(): void {}
