import type { Sink } from './Sink.js';

/** Options of pipe. */
export interface PipeOptions {
  /** Stops the pipe: it rejects with the signal's reason and ends the source's iteration. */
  signal?: AbortSignal;
}

/**
 * Writes every item of `source` to `sink`, one at a time — the next item is read only after the
 * previous write resolved (backpressure). Resolves with the number of items written when the
 * source ends; rejects with the first write or source error, or on abort. Does not close `sink`.
 */
export async function pipe<E>(source: AsyncIterable<E> | Iterable<E>, sink: Sink<E>, options: PipeOptions = {}): Promise<number> {
  const { signal } = options;
  signal?.throwIfAborted();
  const iterator: AsyncIterator<E> | Iterator<E> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let count = 0;
  let finished = false;
  try {
    for (;;) {
      const result = await untilAborted(Promise.resolve(iterator.next()), signal);
      if (result.done) {
        finished = true;
        return count;
      }
      await untilAborted(sink.write(result.value), signal);
      count++;
    }
  } finally {
    // Like for-await: tell the source we stop early. Not awaited — it may be stuck in next().
    if (!finished && iterator.return) Promise.resolve(iterator.return()).catch(() => {});
  }
}

/** `promise`, or a rejection with the signal's reason if it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {}); // an abandoned promise must not become an unhandled rejection
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
