import type { Sink } from './Sink.js';

/** What failed: a write of `event` to `sink`, or closing `sink`. */
export type FailureInfo<E> =
  | { readonly op: 'write'; readonly sink: Sink<E>; readonly event: E }
  | { readonly op: 'close'; readonly sink: Sink<E> };

/**
 * Called when a destination sink fails and the failure is absorbed rather than returned to the
 * writer (go-events logs these). The default is to ignore them; they are also counted in stats().
 */
export type ErrorHandler<E> = (error: unknown, info: FailureInfo<E>) => void;

/** Calls `handler` if set; an exception thrown by the handler itself is ignored. Internal. */
export function reportError<E>(handler: ErrorHandler<E> | undefined, error: unknown, info: FailureInfo<E>): void {
  if (!handler) return;
  try {
    handler(error, info);
  } catch {
    // A failing error handler must not stop the loop that called it.
  }
}
