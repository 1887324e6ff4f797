/**
 * A level-triggered wake-up: `notify()` before `wait()` is not lost, and several notifies before
 * one wait count once. Concurrent waits share one promise (and one abort listener), so a loop
 * that races it against other events every turn leaves nothing behind. The waiting loop
 * re-checks its conditions after every wake-up, so a spurious one costs only a turn.
 */
export class Wakeup {
  private pending = false;
  private waiting: { promise: Promise<void>; done: () => void } | undefined;

  notify(): void {
    if (this.waiting) this.waiting.done();
    else this.pending = true;
  }

  /** Resolves on the next (or a missed) notify, or when the signal aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    if (this.waiting) return this.waiting.promise;
    let done!: () => void;
    const promise = new Promise<void>((resolve) => {
      done = (): void => {
        signal.removeEventListener('abort', done);
        this.waiting = undefined;
        this.pending = false;
        resolve();
      };
    });
    signal.addEventListener('abort', done, { once: true });
    this.waiting = { promise, done };
    return promise;
  }
}
