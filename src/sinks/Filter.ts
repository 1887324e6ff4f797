import { closeDestination } from './internal/closeDestination.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/** Decides whether an event passes a Filter (go-events' Matcher). */
export interface Matcher<E> {
  /** True to let `event` through. */
  match(event: E): boolean;
}

/** A Matcher, or a plain predicate (go-events' MatcherFunc). */
export type MatcherLike<E> = Matcher<E> | ((event: E) => boolean);

/** Counters of a Filter. */
export interface FilterStats {
  /** Writes accepted while open. */
  readonly written: number;
  /** Matching events the destination accepted. */
  readonly delivered: number;
  /** Events that did not match (their writes resolved). */
  readonly dropped: number;
  /** Matching events the destination rejected (the rejection is returned to the writer). */
  readonly failed: number;
}

/**
 * Passes the events `matcher` accepts on to `dst` (returning its result) and drops the others
 * (resolving). Closing closes `dst`.
 */
export class Filter<E = unknown> implements Sink<E> {
  readonly #dst: Sink<E>;
  readonly #match: (event: E) => boolean;
  #closed: Promise<void> | undefined;
  #written = 0;
  #delivered = 0;
  #dropped = 0;
  #failed = 0;

  /** Creates a filter in front of `dst`. */
  constructor(dst: Sink<E>, matcher: MatcherLike<E>) {
    this.#dst = dst;
    this.#match = typeof matcher === 'function' ? matcher : (event) => matcher.match(event);
  }

  /** Writes `event` to the destination if it matches, else resolves; a throwing matcher rejects. */
  async write(event: E): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    this.#written++;
    if (!this.#match(event)) {
      this.#dropped++;
      return;
    }
    try {
      await this.#dst.write(event);
      this.#delivered++;
    } catch (error) {
      this.#failed++;
      throw error;
    }
  }

  /** Closes the filter and its destination (rejecting with its error unless SinkClosedError); a second call resolves. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed.then(noop, noop);
    this.#closed = closeDestination(this.#dst);
    return this.#closed;
  }

  /** A snapshot of the counters. */
  stats(): FilterStats {
    return { written: this.#written, delivered: this.#delivered, dropped: this.#dropped, failed: this.#failed };
  }
}

function noop(): void {}
