import { reportError, type ErrorHandler } from '../ErrorHandler.js';
import type { Sink } from '../Sink.js';
import { Fifo } from './Fifo.js';

/**
 * The worker behind Queue and BoundedQueue: a FIFO of events and one loop writing them to `dst`
 * one at a time, in order. A failed write is reported and the event dropped (no retry). Internal.
 */
export class Pump<E> {
  /** Events waiting for the worker. */
  readonly events = new Fifo<E>();
  /** Events the destination accepted. */
  delivered = 0;
  /** Events the destination rejected. */
  failed = 0;
  /** 1 while an event is being written to the destination, else 0. */
  inFlight = 0;
  readonly #dst: Sink<E>;
  readonly #onError: ErrorHandler<E> | undefined;
  readonly #onTake: (() => void) | undefined;
  #running: Promise<void> | undefined;

  /** `onTake` runs each time the worker takes an event off the FIFO (room was freed). */
  constructor(dst: Sink<E>, onError: ErrorHandler<E> | undefined, onTake?: () => void) {
    this.#dst = dst;
    this.#onError = onError;
    this.#onTake = onTake;
  }

  /** Appends an event and makes sure the worker runs. */
  push(event: E): void {
    this.events.push(event);
    this.#running ??= this.#run();
  }

  /** Resolves once the FIFO is empty and no write is in flight. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    // Start on a later tick, so a burst of writes is queued before the first one is handed on.
    await Promise.resolve();
    while (this.events.length > 0) {
      const event = this.events.shift() as E;
      this.inFlight = 1;
      this.#onTake?.();
      try {
        await this.#dst.write(event);
        this.delivered++;
      } catch (error) {
        this.failed++;
        reportError(this.#onError, error, { op: 'write', sink: this.#dst, event });
      }
      this.inFlight = 0;
    }
    this.#running = undefined;
  }
}
