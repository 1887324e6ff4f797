import { reportError, type ErrorHandler } from './ErrorHandler.js';
import { Fifo } from './internal/Fifo.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/** Options of a Broadcaster. */
export interface BroadcasterOptions<E> {
  /** Called when a sink rejects a write (other than SinkClosedError) or its close fails. */
  onError?: ErrorHandler<E>;
}

/** Counters of a Broadcaster (see docs/sinks.md for the vocabulary). */
export interface BroadcasterStats {
  /** Events taken by the loop. */
  readonly written: number;
  /** Successful writes to sinks (one event to ten sinks counts ten). */
  readonly delivered: number;
  /** Failed writes to sinks (that sink missed the event). */
  readonly failed: number;
  /** Sinks removed because they rejected a write with SinkClosedError. */
  readonly removed: number;
  /** Sinks currently attached. */
  readonly sinks: number;
  /** Requests (writes, adds, removes) waiting for the loop. */
  readonly pending: number;
}

type Request<E> =
  | { kind: 'write'; event: E; resolve: () => void }
  | { kind: 'add' | 'remove'; sink: Sink<E>; resolve: () => void }
  | { kind: 'close'; resolve: () => void };

/**
 * Sends every event to every attached sink, one event at a time, in the order sinks were added.
 *
 * One internal loop serializes everything, as in go-events: `write`, `add` and `remove` queue a
 * request and the loop takes them in call order. `write` resolves when the loop *takes* the event
 * (not when it is delivered); the loop then awaits each sink's write in turn. A sink that rejects
 * with SinkClosedError is removed; any other rejection is reported to `onError` and that sink
 * misses the event — a failing sink never stops the others. Wrap slow or unreliable sinks in a
 * Queue and a RetryingSink.
 */
export class Broadcaster<E = unknown> implements Sink<E> {
  readonly #sinks = new Set<Sink<E>>();
  readonly #requests = new Fifo<Request<E>>();
  readonly #onError: ErrorHandler<E> | undefined;
  #running = false;
  #closed: Promise<void> | undefined;
  #written = 0;
  #delivered = 0;
  #failed = 0;
  #removed = 0;

  /** Creates a broadcaster to `sinks` (a sink given twice is attached once). */
  constructor(sinks: Iterable<Sink<E>> = [], options: BroadcasterOptions<E> = {}) {
    for (const sink of sinks) this.#sinks.add(sink);
    this.#onError = options.onError;
  }

  /** Queues `event` for every sink; resolves when the loop takes it, rejects once closed. */
  write(event: E): Promise<void> {
    return this.#request((resolve) => ({ kind: 'write', event, resolve }));
  }

  /** Attaches `sink` (a no-op if already attached); it receives events written after this call. */
  add(sink: Sink<E>): Promise<void> {
    return this.#request((resolve) => ({ kind: 'add', sink, resolve }));
  }

  /** Detaches `sink` if attached (without closing it); events written after this call skip it. */
  remove(sink: Sink<E>): Promise<void> {
    return this.#request((resolve) => ({ kind: 'remove', sink, resolve }));
  }

  /**
   * Stops accepting requests, lets the loop dispatch everything requested before this call, then
   * closes every attached sink (failures other than SinkClosedError go to `onError`). Resolves
   * when done; a second call resolves when the first is done.
   */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => this.#enqueue({ kind: 'close', resolve }));
    return this.#closed;
  }

  /** A snapshot of the counters. */
  stats(): BroadcasterStats {
    return {
      written: this.#written,
      delivered: this.#delivered,
      failed: this.#failed,
      removed: this.#removed,
      sinks: this.#sinks.size,
      pending: this.#requests.length,
    };
  }

  #request(make: (resolve: () => void) => Request<E>): Promise<void> {
    if (this.#closed) return Promise.reject(new SinkClosedError());
    return new Promise<void>((resolve) => this.#enqueue(make(resolve)));
  }

  #enqueue(request: Request<E>): void {
    this.#requests.push(request);
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#requests.length > 0) {
      const request = this.#requests.shift()!;
      switch (request.kind) {
        case 'write':
          this.#written++;
          request.resolve();
          await this.#dispatch(request.event);
          break;
        case 'add':
          this.#sinks.add(request.sink);
          request.resolve();
          break;
        case 'remove':
          this.#sinks.delete(request.sink);
          request.resolve();
          break;
        case 'close':
          await this.#closeSinks();
          request.resolve();
          break;
      }
    }
    this.#running = false;
  }

  async #dispatch(event: E): Promise<void> {
    // Only this loop changes the set, and deleting the current element of a Set while iterating is safe.
    for (const sink of this.#sinks) {
      try {
        await sink.write(event);
        this.#delivered++;
      } catch (error) {
        if (error instanceof SinkClosedError) {
          this.#sinks.delete(sink);
          this.#removed++;
        } else {
          this.#failed++;
          reportError(this.#onError, error, { op: 'write', sink, event });
        }
      }
    }
  }

  async #closeSinks(): Promise<void> {
    for (const sink of this.#sinks) {
      try {
        await sink.close();
      } catch (error) {
        if (!(error instanceof SinkClosedError)) reportError(this.#onError, error, { op: 'close', sink });
      }
    }
  }
}
