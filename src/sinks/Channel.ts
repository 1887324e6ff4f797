import { Fifo } from './internal/Fifo.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/** Counters of a Channel. */
export interface ChannelStats {
  /** Events offered by writes while open. */
  readonly written: number;
  /** Events taken by readers. */
  readonly delivered: number;
  /** Writes still waiting for room when the channel closed (they rejected with SinkClosedError). */
  readonly dropped: number;
  /** Events in the buffer (accepted, not yet read). */
  readonly buffered: number;
  /** Writers waiting for a reader or for room in the buffer. */
  readonly blocked: number;
  /** Readers waiting for an event. */
  readonly readers: number;
}

interface BlockedWriter<E> {
  event: E;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A sink read as an async iterable: `for await (const event of channel)`. The port of go-events'
 * Channel, whose `C` is the iterator here.
 *
 * With capacity 0 (the default) a write resolves when a reader takes the event; with capacity n,
 * as soon as the event fits in the buffer of n. Several readers may iterate at once; each event
 * goes to one of them. `close` rejects waiting writers with SinkClosedError; events already
 * accepted stay readable, and every iteration ends once the buffer is drained.
 */
export class Channel<E = unknown> implements Sink<E>, AsyncIterable<E> {
  /** The buffer size given to the constructor. */
  readonly capacity: number;
  /** Resolves when the channel is closed (go-events' Done()). */
  readonly done: Promise<void>;
  readonly #controller = new AbortController();
  readonly #buffer = new Fifo<E>();
  readonly #writers = new Fifo<BlockedWriter<E>>();
  readonly #readers = new Fifo<(result: IteratorResult<E>) => void>();
  #resolveDone!: () => void;
  #written = 0;
  #delivered = 0;
  #dropped = 0;

  /** Creates a channel buffering up to `capacity` events (0: every write waits for a reader). */
  constructor(capacity = 0) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be an integer >= 0, got ${capacity}`);
    this.capacity = capacity;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Aborted when the channel is closed, with a SinkClosedError as reason. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether close was called. */
  get closed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Hands `event` to a reader or the buffer; waits while neither has room; rejects once closed. */
  write(event: E): Promise<void> {
    if (this.closed) return Promise.reject(new SinkClosedError());
    this.#written++;
    const reader = this.#readers.shift();
    if (reader) {
      this.#delivered++;
      reader({ value: event, done: false });
      return Promise.resolve();
    }
    if (this.#buffer.length < this.capacity) {
      this.#buffer.push(event);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#writers.push({ event, resolve, reject }));
  }

  /** Closes the channel: waiting writers reject, readers end once the buffer is drained. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.#controller.abort(new SinkClosedError());
    for (const writer of this.#writers.drain()) {
      this.#dropped++;
      writer.reject(new SinkClosedError());
    }
    // Readers only wait when the buffer is empty, so they are done.
    for (const reader of this.#readers.drain()) reader({ value: undefined, done: true });
    this.#resolveDone();
    return Promise.resolve();
  }

  /** An iterator over the events; ends after close once the buffer is drained. */
  [Symbol.asyncIterator](): AsyncIterator<E> {
    return {
      next: () => this.#receive(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** A snapshot of the counters. */
  stats(): ChannelStats {
    return {
      written: this.#written,
      delivered: this.#delivered,
      dropped: this.#dropped,
      buffered: this.#buffer.length,
      blocked: this.#writers.length,
      readers: this.#readers.length,
    };
  }

  #receive(): Promise<IteratorResult<E>> {
    if (this.#buffer.length > 0) {
      const event = this.#buffer.shift() as E;
      const writer = this.#writers.shift();
      if (writer) {
        this.#buffer.push(writer.event);
        writer.resolve();
      }
      this.#delivered++;
      return Promise.resolve({ value: event, done: false });
    }
    const writer = this.#writers.shift();
    if (writer) {
      this.#delivered++;
      writer.resolve();
      return Promise.resolve({ value: writer.event, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#readers.push(resolve));
  }
}
