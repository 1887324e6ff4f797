/**
 * Readers waiting for a stream to grow past a seq. One store listener serves every waiter, so
 * ten thousand idle live tails cost a map entry each, not a listener each.
 */
export class HeadWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Wakes every waiter of the stream; called from the store's append listener. */
  wake(stream: string): void {
    const set = this.waiting.get(stream);
    if (!set) return;
    this.waiting.delete(stream);
    for (const wake of set) wake();
  }

  /** Wakes everyone (on shutdown), so tails can notice and end. */
  wakeAll(): void {
    for (const stream of [...this.waiting.keys()]) this.wake(stream);
  }

  /**
   * Resolves once `head()` passes `after`, or when the signal aborts. `head` is read after the
   * waiter is registered, so an append that lands in between is never missed.
   */
  wait(stream: string, after: number, head: () => number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let set = this.waiting.get(stream);
      if (!set) this.waiting.set(stream, (set = new Set()));
      const done = (): void => {
        set!.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
      if (head() > after) done();
    });
  }
}
