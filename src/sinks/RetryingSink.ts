import { setMaxListeners } from 'node:events';
import { reportError, type ErrorHandler } from './ErrorHandler.js';
import { sleep } from './internal/sleep.js';
import type { RetryStrategy } from './RetryStrategy.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/** Options of a RetryingSink. */
export interface RetryingSinkOptions<E> {
  /** Called on every failed attempt (go-events logs these). */
  onError?: ErrorHandler<E>;
}

/** Counters of a RetryingSink. */
export interface RetryingSinkStats {
  /** Writes accepted while open. */
  readonly written: number;
  /** Events the wrapped sink accepted. */
  readonly delivered: number;
  /** Events the strategy gave up on (their writes resolved). */
  readonly dropped: number;
  /** Failed attempts. */
  readonly failed: number;
  /** Attempts after a failure. */
  readonly retried: number;
  /** Writes in progress (waiting or attempting). */
  readonly pending: number;
}

/**
 * Retries writes to `sink` until they succeed, the strategy drops them, or this sink is closed.
 * Before each attempt it waits `strategy.proceed(event)` ms; close interrupts a wait (the write
 * rejects with SinkClosedError). SinkClosedError from the wrapped sink is returned at once.
 * Concurrent writes run concurrently, as in go-events. Closing does not close the wrapped sink
 * (go-events HEAD).
 */
export class RetryingSink<E = unknown> implements Sink<E> {
  /** The wrapped sink. */
  readonly sink: Sink<E>;
  /** The retry strategy. */
  readonly strategy: RetryStrategy<E>;
  readonly #closed = new AbortController();
  readonly #onError: ErrorHandler<E> | undefined;
  #written = 0;
  #delivered = 0;
  #dropped = 0;
  #failed = 0;
  #retried = 0;
  #pending = 0;

  /** Wraps `sink`, retrying with `strategy`. */
  constructor(sink: Sink<E>, strategy: RetryStrategy<E>, options: RetryingSinkOptions<E> = {}) {
    this.sink = sink;
    this.strategy = strategy;
    this.#onError = options.onError;
    setMaxListeners(0, this.#closed.signal); // one listener per waiting write, any number of writes
  }

  /** Writes `event`, retrying per the strategy; resolves when delivered or dropped. */
  async write(event: E): Promise<void> {
    if (this.#closed.signal.aborted) throw new SinkClosedError();
    this.#written++;
    this.#pending++;
    try {
      await this.#attempt(event);
    } finally {
      this.#pending--;
    }
  }

  /** Marks the sink closed, interrupting waits; the wrapped sink stays open. A second call resolves. */
  close(): Promise<void> {
    this.#closed.abort();
    return Promise.resolve();
  }

  /** A snapshot of the counters. */
  stats(): RetryingSinkStats {
    return {
      written: this.#written,
      delivered: this.#delivered,
      dropped: this.#dropped,
      failed: this.#failed,
      retried: this.#retried,
      pending: this.#pending,
    };
  }

  async #attempt(event: E): Promise<void> {
    const signal = this.#closed.signal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new SinkClosedError();
      const wait = this.strategy.proceed(event);
      if (wait > 0 && !(await sleep(wait, signal))) throw new SinkClosedError();
      if (attempt > 0) this.#retried++;
      try {
        await this.sink.write(event);
      } catch (error) {
        if (error instanceof SinkClosedError) throw error;
        this.#failed++;
        reportError(this.#onError, error, { op: 'write', sink: this.sink, event });
        if (this.strategy.failure(event, error)) {
          this.#dropped++;
          return;
        }
        continue;
      }
      this.strategy.success(event);
      this.#delivered++;
      return;
    }
  }
}
