import type { ErrorHandler } from './ErrorHandler.js';
import { closeDestination } from './internal/closeDestination.js';
import { Fifo } from './internal/Fifo.js';
import { Pump } from './internal/Pump.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';
import { SinkFullError } from './SinkFullError.js';

/**
 * What a full BoundedQueue does with a new event:
 * - 'drop-oldest': evicts the oldest waiting event (counted as dropped) and accepts the new one;
 * - 'drop-newest': refuses the new one: its write rejects with SinkFullError (counted as dropped);
 * - 'wait': the write waits until the worker frees room (backpressure, nothing dropped).
 */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'wait';

/** Options of a BoundedQueue. */
export interface BoundedQueueOptions<E> {
  /** Most events waiting in the queue (the one being written to the destination not counted); >= 1. */
  capacity: number;
  /** What to do when full; default 'wait'. */
  policy?: OverflowPolicy;
  /** Called when the destination rejects an event (which is then dropped, not retried). */
  onError?: ErrorHandler<E>;
  /** Called with each event the queue drops (evicted, refused, or still waiting at close). */
  onDrop?: (event: E) => void;
}

/** Counters of a BoundedQueue; written = delivered + failed + dropped + length + inFlight + blocked. */
export interface BoundedQueueStats {
  /** Events offered by writes while open (including refused ones). */
  readonly written: number;
  /** Events the destination accepted. */
  readonly delivered: number;
  /** Events the destination rejected (dropped, not retried). */
  readonly failed: number;
  /** Events dropped by the overflow policy, or waiting writers rejected at close. */
  readonly dropped: number;
  /** Events waiting in the queue. */
  readonly length: number;
  /** 1 while an event is being written to the destination, else 0. */
  readonly inFlight: number;
  /** Writers waiting for room (policy 'wait'). */
  readonly blocked: number;
}

interface BlockedWriter<E> {
  event: E;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A Queue with a capacity and an overflow policy (an addition to go-events, whose Queue is
 * unbounded). One worker writes events to `dst` one at a time, in order; what it drops it counts.
 */
export class BoundedQueue<E = unknown> implements Sink<E> {
  /** The capacity given in the options. */
  readonly capacity: number;
  /** The overflow policy in force. */
  readonly policy: OverflowPolicy;
  readonly #dst: Sink<E>;
  readonly #pump: Pump<E>;
  readonly #blocked = new Fifo<BlockedWriter<E>>();
  readonly #onDrop: ((event: E) => void) | undefined;
  #written = 0;
  #dropped = 0;
  #closed: Promise<void> | undefined;

  /** Creates a bounded queue writing to `dst`. */
  constructor(dst: Sink<E>, options: BoundedQueueOptions<E>) {
    const { capacity, policy = 'wait' } = options;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    if (policy !== 'drop-oldest' && policy !== 'drop-newest' && policy !== 'wait') throw new RangeError(`unknown policy ${String(policy)}`);
    this.capacity = capacity;
    this.policy = policy;
    this.#dst = dst;
    this.#onDrop = options.onDrop;
    this.#pump = new Pump(dst, options.onError, () => this.#admitBlocked());
  }

  /**
   * Appends `event`. When full: 'drop-oldest' evicts the oldest waiting event and resolves;
   * 'drop-newest' rejects with SinkFullError; 'wait' resolves once the event is queued (or rejects
   * with SinkClosedError if the queue closes first). Rejects with SinkClosedError once closed.
   */
  write(event: E): Promise<void> {
    if (this.#closed) return Promise.reject(new SinkClosedError());
    this.#written++;
    const events = this.#pump.events;
    if (events.length < this.capacity && this.#blocked.length === 0) {
      this.#pump.push(event);
      return Promise.resolve();
    }
    switch (this.policy) {
      case 'drop-oldest':
        this.#drop(events.shift() as E);
        this.#pump.push(event);
        return Promise.resolve();
      case 'drop-newest':
        this.#drop(event);
        return Promise.reject(new SinkFullError(this.capacity));
      case 'wait':
        return new Promise((resolve, reject) => this.#blocked.push({ event, resolve, reject }));
    }
  }

  /**
   * Stops accepting events, rejects waiting writers with SinkClosedError (their events count as
   * dropped), waits until every queued event has been handed to the destination, then closes it
   * (rejecting with its error unless SinkClosedError). A second call resolves once the first is done.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed.then(noop, noop);
    for (const writer of this.#blocked.drain()) {
      this.#drop(writer.event);
      writer.reject(new SinkClosedError());
    }
    this.#closed = this.#pump.idle().then(() => closeDestination(this.#dst));
    return this.#closed;
  }

  /** A snapshot of the counters. */
  stats(): BoundedQueueStats {
    return {
      written: this.#written,
      delivered: this.#pump.delivered,
      failed: this.#pump.failed,
      dropped: this.#dropped,
      length: this.#pump.events.length,
      inFlight: this.#pump.inFlight,
      blocked: this.#blocked.length,
    };
  }

  #drop(event: E): void {
    this.#dropped++;
    if (!this.#onDrop) return;
    try {
      this.#onDrop(event);
    } catch {
      // A failing drop handler must not break the queue.
    }
  }

  #admitBlocked(): void {
    const writer = this.#blocked.shift();
    if (!writer) return;
    this.#pump.push(writer.event);
    writer.resolve();
  }
}

function noop(): void {}
