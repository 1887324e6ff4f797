/**
 * A level-triggered wake-up: `notify()` before `wait()` is not lost, and several notifies before
 * one wait count once. The waiting loop re-checks its conditions after every wake-up, so a
 * spurious one costs only a turn.
 */
export class Wakeup {
  private pending = false;
  private resolve: (() => void) | undefined;

  notify(): void {
    this.pending = true;
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }

  /** Resolves on the next (or a missed) notify, or when the signal aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.pending = false;
        resolve();
      };
      this.resolve = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
