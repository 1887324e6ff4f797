/**
 * Test helpers shared by the sink tests — the port of go-events' common_test.go. Not part of the
 * public API (not exported from index.ts).
 */
import { expect } from 'vitest';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';

/**
 * Records events and checks a count: a write beyond `expected` is a failure, and so is closing with
 * any other count. Failures are recorded in `failures` (tests assert it stays empty) and also thrown,
 * since a sink's error may be absorbed by the sink in front of it.
 */
export class TestSink<E = unknown> implements Sink<E> {
  readonly events: E[] = [];
  readonly failures: string[] = [];
  closed = false;

  constructor(readonly expected: number) {}

  async write(event: E): Promise<void> {
    if (this.closed) throw new SinkClosedError();
    this.events.push(event);
    if (this.events.length > this.expected) this.#fail(`got ${this.events.length} events, expected ${this.expected}`);
  }

  async close(): Promise<void> {
    if (this.closed) throw new SinkClosedError();
    this.closed = true;
    if (this.events.length !== this.expected) this.#fail(`closed with ${this.events.length} events, expected ${this.expected}`);
  }

  #fail(message: string): never {
    this.failures.push(message);
    throw new Error(`testSink: ${message}`);
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits `delay` ms before each write to `sink` (go-events' delayedSink). */
export class DelayedSink<E = unknown> implements Sink<E> {
  constructor(
    readonly sink: Sink<E>,
    readonly delay: number,
  ) {}

  async write(event: E): Promise<void> {
    await sleepMs(this.delay);
    await this.sink.write(event);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

/** Fails a write with probability `rate` (mutable), else writes to `sink` (go-events' flakySink). */
export class FlakySink<E = unknown> implements Sink<E> {
  attempts = 0;

  constructor(
    readonly sink: Sink<E>,
    public rate: number,
    readonly random: () => number = Math.random,
  ) {}

  async write(event: E): Promise<void> {
    this.attempts++;
    if (this.random() < this.rate) throw new Error(`error writing event: ${String(event)}`);
    await this.sink.write(event);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

/** go-events' checkClose (HEAD): close resolves, a second close resolves, a write then rejects with SinkClosedError. */
export async function checkClose(sink: Sink<never>): Promise<void> {
  await expect(sink.close()).resolves.toBeUndefined();
  await expect(sink.close()).resolves.toBeUndefined();
  await expect(sink.write('fail' as never)).rejects.toBeInstanceOf(SinkClosedError);
  await expect(sink.write('fail' as never)).rejects.toThrow(/^events: sink closed$/);
}

/** Resolves after pending microtasks and one macrotask turn. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A sink whose writes wait until `release()` is called; records what it got. */
export class GateSink<E = unknown> implements Sink<E> {
  readonly events: E[] = [];
  closed = false;
  #waiters: (() => void)[] = [];

  async write(event: E): Promise<void> {
    if (this.closed) throw new SinkClosedError();
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.events.push(event);
  }

  /** Lets the oldest waiting write (or all of them) complete. */
  release(all = false): void {
    if (all) for (const w of this.#waiters.splice(0)) w();
    else this.#waiters.shift()?.();
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
