import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/** Options of a FuncSink. */
export interface FuncSinkOptions {
  /** Runs once on the first close (e.g. to release a connection); its rejection is returned. */
  onClose?: () => void | Promise<void>;
}

/** Counters of a FuncSink. */
export interface FuncSinkStats {
  /** Writes accepted while open. */
  readonly written: number;
  /** Calls that returned or resolved. */
  readonly delivered: number;
  /** Calls that threw or rejected (the error is returned to the writer). */
  readonly failed: number;
}

/**
 * Makes a sink of a function: each write calls `fn(event)` and settles as it does. The usual end
 * of a chain, e.g. an HTTP POST wrapped in a RetryingSink.
 */
export class FuncSink<E = unknown> implements Sink<E> {
  readonly #fn: (event: E) => unknown;
  readonly #onClose: (() => void | Promise<void>) | undefined;
  #closed: Promise<void> | undefined;
  #written = 0;
  #delivered = 0;
  #failed = 0;

  /** Creates a sink calling `fn` for each event. */
  constructor(fn: (event: E) => unknown, options: FuncSinkOptions = {}) {
    this.#fn = fn;
    this.#onClose = options.onClose;
  }

  /** Calls the function with `event`; rejects with SinkClosedError once closed. */
  async write(event: E): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    this.#written++;
    try {
      await this.#fn(event);
      this.#delivered++;
    } catch (error) {
      this.#failed++;
      throw error;
    }
  }

  /** Closes the sink, running `onClose` once; a second call resolves. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed.then(noop, noop);
    this.#closed = (async () => {
      await this.#onClose?.();
    })();
    return this.#closed;
  }

  /** A snapshot of the counters. */
  stats(): FuncSinkStats {
    return { written: this.#written, delivered: this.#delivered, failed: this.#failed };
  }
}

function noop(): void {}
